// AnswerCheck.hpp — what the client sent us in answer to our offer, checked before use.
//
// What: pure functions over parsed SDP and candidate text, all of it remote input.
// checkAnswer: is it an answer webrtcbin can apply to our offer (same m-lines and mids,
// ICE credentials, a DTLS fingerprint and role)? Checked before the client hears `ok`,
// so a bad answer gets an error and the connection stays (webrtcbin 1.22 would accept
// some of these and fail later, or not at all). refusedSendMids: which of our send
// m-lines the answer refused (port 0 without bundle-only, or the payload type we offered
// is not kept: the client cannot decode that codec), to tell a subscriber about a codec
// mismatch instead of showing it a black tile. checkCandidate: is a trickled candidate
// well-formed (RFC 8839 grammar, port range) and for an m-line of the offer?
// Thread: any. Ownership: borrows the message.
#pragma once

#include <gst/sdp/sdp.h>

#include <map>
#include <string>
#include <vector>

namespace manifold::media {

/// "" if `answer` can be applied to `offer`, else what is wrong with it.
std::string checkAnswer(const GstSDPMessage* offer, const GstSDPMessage* answer);

/// "" if `candidate` (an a=candidate value, "candidate:" prefix optional) is well-formed
/// and `mlineIndex` names one of the offer's `mlines` m-lines, else what is wrong.
std::string checkCandidate(int mlineIndex, const std::string& candidate, unsigned mlines);

/// `offered`: mid -> payload type we send on it. Returns the mids refused.
std::vector<std::string> refusedSendMids(const GstSDPMessage* answer, const std::map<std::string, int>& offered);

} // namespace manifold::media
