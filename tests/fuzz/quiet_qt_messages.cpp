#include "quiet_qt_messages.h"

#include <QString>
#include <QtGlobal>

#include <cstdio>

void quietQtMessages()
{
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &, const QString &message) {
        if (type == QtFatalMsg) {
            std::fprintf(stderr, "qFatal: %s\n", qPrintable(message));
            std::fflush(stderr);
        }
    });
}
