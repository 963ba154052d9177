#include "channel_binding.h"

#include "stream_namespaces.h"

namespace xbnc {

const ChannelBinding *findChannelBinding(const ChannelBindings &bindings, QStringView type)
{
    for (const ChannelBinding &binding : bindings) {
        if (binding.type == type)
            return &binding;
    }
    return nullptr;
}

QStringList channelBindingTypes(const ChannelBindings &bindings)
{
    QStringList types;
    types.reserve(bindings.size());
    for (const ChannelBinding &binding : bindings)
        types.append(binding.type);
    return types;
}

Element channelBindingFeature(const QStringList &types)
{
    const QString xmlns = ns::saslChannelBinding.toString();
    Element feature(QStringLiteral("sasl-channel-binding"), xmlns);
    for (const QString &type : types) {
        Element binding(QStringLiteral("channel-binding"), xmlns);
        binding.setAttribute(QStringLiteral("type"), type);
        feature.addChild(std::move(binding));
    }
    return feature;
}

} // namespace xbnc
