#include "stream_error.h"

#include "element.h"
#include "stream_namespaces.h"

namespace xbnc {

QByteArray streamErrorXml(QStringView condition, QStringView text)
{
    Element error(QStringLiteral("error"), ns::streams.toString());
    error.setPrefix(QStringLiteral("stream"));
    error.addChild(Element(condition.toString(), ns::streamErrors.toString()));
    if (!text.isEmpty()) {
        Element description(QStringLiteral("text"), ns::streamErrors.toString());
        description.setText(text.toString());
        error.addChild(std::move(description));
    }
    return error.toXml();
}

} // namespace xbnc
