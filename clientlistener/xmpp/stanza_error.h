#pragma once

#include "element.h"

#include <QString>

namespace xbnc::stanza {

// RFC 6120 §8.3.2 error types.
enum class ErrorType
{
    Auth,
    Cancel,
    Continue,
    Modify,
    Wait
};

// The error answering `original` (RFC 6120 §8.3.1): same element name and id, 'to' and 'from'
// swapped, the payload left out, <error type=…><condition/></error>. Every error xbnc makes up
// comes from here, so all of them carry the same shape.
Element error(const Element &original, ErrorType type, const QString &condition,
              const QString &text = {});

// An empty result to an IQ request, addressed back to its sender.
Element iqResult(const Element &request);

// The RFC 6120 type of a condition, for callers that only know the condition.
ErrorType defaultType(const QString &condition);

// The payload of an IQ: its one child element other than <error/> (get and set carry exactly
// one), or nullptr.
const Element *payload(const Element &iq);

} // namespace xbnc::stanza
