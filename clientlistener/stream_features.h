#pragma once

#include "element.h"

#include <QStringList>

#include <optional>

namespace xbnc {

// The <stream:features/> a client sees at each restart of the stream (RFC 6120 §4.3.2).
struct FeatureOffer
{
    bool offerStartTls = false;
    bool tlsRequired = false;
    QStringList mechanisms; // empty: no SASL offered at this stage
    // XEP-0388 SASL2 alongside SASL, with the same mechanisms: a client that saw SASL2 once
    // takes its absence for a downgrade attack. fastMechanisms: XEP-0484, empty for none.
    bool offerSasl2 = false;
    QStringList fastMechanisms;
    // XEP-0440: the channel binding types the -PLUS mechanisms accept; empty: none.
    QStringList channelBindingTypes;
    bool offerBind = false;
    bool offerStreamManagement = false; // XEP-0198 <sm/>: enable after bind, or resume instead
    bool offerCsi = false;              // XEP-0352, after authentication
    // What phones read from the features after authentication.
    bool offerRosterVersioning = false; // XEP-0237
    std::optional<Element> serverCaps;  // XEP-0115 §6.3 <c/>
};

Element streamFeatures(const FeatureOffer &offer);

} // namespace xbnc
