// AnswerCheck.hpp — which of our send m-lines a client's SDP answer refused.
//
// What: a pure function over a parsed answer: an m-line we send on is refused when the
// answer rejects it (port 0 without bundle-only) or does not keep the payload type we
// offered (the client cannot decode that codec). Used to tell a subscriber about a
// codec mismatch instead of showing it a black tile.
// Thread: any. Ownership: borrows the message.
#pragma once

#include <gst/sdp/sdp.h>

#include <map>
#include <string>
#include <vector>

namespace manifold::media {

/// `offered`: mid -> payload type we send on it. Returns the mids refused.
std::vector<std::string> refusedSendMids(const GstSDPMessage* answer, const std::map<std::string, int>& offered);

} // namespace manifold::media
