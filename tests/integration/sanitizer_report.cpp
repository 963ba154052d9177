#include "sanitizer_report.h"

#include <QRegularExpression>

namespace {

constexpr qsizetype maxReportChars = 16000;

} // namespace

QString sanitizerReport(const QString &output)
{
    // "==123==ERROR: AddressSanitizer: heap-use-after-free", "ERROR: LeakSanitizer: detected
    // memory leaks", "foo.cpp:12:3: runtime error: signed integer overflow" (UBSan).
    static const QRegularExpression marker(
        QStringLiteral("(ERROR|WARNING): [A-Za-z]+Sanitizer|: runtime error: "));
    const QRegularExpressionMatch match = marker.match(output);
    if (!match.hasMatch())
        return {};
    const qsizetype lineStart = output.lastIndexOf(QLatin1Char('\n'), match.capturedStart()) + 1;
    return output.mid(lineStart, maxReportChars);
}
