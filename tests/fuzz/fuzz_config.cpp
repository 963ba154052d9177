// The config loader reads a file the user wrote (or a package tool generated): any bytes must
// give either a Config or one error line, never a crash or undefined behaviour.
#include "config.h"
#include "quiet_qt_messages.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const auto result =
        xbnc::parseConfig(QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)));
    if (const auto *error = std::get_if<xbnc::ConfigError>(&result)) {
        // main() prints it as one line after "xbnc: ".
        if (error->message.isEmpty() || error->message.contains(u'\n')) {
            std::fprintf(stderr, "config error is not one line: \"%s\"\n",
                         qPrintable(error->message));
            std::abort();
        }
    }
    return 0;
}
