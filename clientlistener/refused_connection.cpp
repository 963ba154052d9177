#include "refused_connection.h"

#include "stream_error.h"

#include <sys/socket.h>
#include <unistd.h>

namespace xbnc {

void refuseConnection(qintptr descriptor, bool plaintext, const QString &domain,
                      const QString &text)
{
    if (plaintext) {
        QByteArray bytes = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from=\"";
        bytes += domain.toHtmlEscaped().toUtf8();
        bytes += "\">";
        bytes += streamErrorXml(u"policy-violation", text);
        bytes += "</stream:stream>";
        // A fresh socket's send buffer takes these few bytes whole; if it cannot, the client
        // still sees the connection closed, which is all a refusal needs.
        (void)::send(int(descriptor), bytes.constData(), size_t(bytes.size()),
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    ::close(int(descriptor));
}

} // namespace xbnc
