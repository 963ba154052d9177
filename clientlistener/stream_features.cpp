#include "stream_features.h"

#include "channel_binding.h"
#include "sasl2_request.h"
#include "stream_namespaces.h"

namespace xbnc {

Element streamFeatures(const FeatureOffer &offer)
{
    Element features(QStringLiteral("features"), ns::streams.toString());
    features.setPrefix(QStringLiteral("stream"));
    if (offer.offerStartTls) {
        Element &starttls =
            features.addChild(Element(QStringLiteral("starttls"), ns::tls.toString()));
        if (offer.tlsRequired)
            starttls.addChild(Element(QStringLiteral("required"), ns::tls.toString()));
    }
    if (!offer.mechanisms.isEmpty()) {
        Element &mechanisms =
            features.addChild(Element(QStringLiteral("mechanisms"), ns::sasl.toString()));
        for (const QString &name : offer.mechanisms) {
            Element mechanism(QStringLiteral("mechanism"), ns::sasl.toString());
            mechanism.setText(name);
            mechanisms.addChild(std::move(mechanism));
        }
        if (!offer.channelBindingTypes.isEmpty())
            features.addChild(channelBindingFeature(offer.channelBindingTypes));
        if (offer.offerSasl2)
            features.addChild(authenticationFeature(offer.mechanisms, offer.fastMechanisms));
    }
    if (offer.offerBind) {
        features.addChild(Element(QStringLiteral("bind"), ns::bind.toString()));
        // RFC 3921 session establishment is a no-op today, but older clients (and some current
        // ones) still send it unless told it is optional.
        Element &session =
            features.addChild(Element(QStringLiteral("session"), ns::session.toString()));
        session.addChild(Element(QStringLiteral("optional"), ns::session.toString()));
    }
    if (offer.offerStreamManagement)
        features.addChild(Element(QStringLiteral("sm"), ns::sm.toString()));
    if (offer.offerCsi)
        features.addChild(Element(QStringLiteral("csi"), ns::csi.toString()));
    if (offer.offerRosterVersioning)
        features.addChild(Element(QStringLiteral("ver"), ns::rosterVersioning.toString()));
    if (offer.serverCaps)
        features.addChild(*offer.serverCaps);
    return features;
}

} // namespace xbnc
