// Keyframe.hpp — does an RTP payload start a keyframe? (VP8, VP9, H264, AV1)
//
// What: reads the codec's payload descriptor (RFC 7741 for VP8, RFC 9628 for VP9,
// RFC 6184 for H264, the AV1 RTP specification's aggregation header) of one packet's
// payload and says whether it begins a frame a decoder can start from. The Producer
// uses it to know that a keyframe it asked the publisher for has come, and to ask again
// when it has not (libwebrtc publishers ignore a request within 300 ms of the last one
// they acted on).
// Thread: pure functions, any thread. Input is untrusted network data: every read is
// bounds-checked (fuzzed by tests/fuzz/fuzz_keyframe).
#pragma once

#include <cstddef>
#include <cstdint>

namespace manifold::media {

enum class VideoCodec : std::uint8_t { Unknown, VP8, VP9, H264, AV1 };

/// From an SDP/caps encoding name ("VP8", "h264", ...); Unknown for anything else.
VideoCodec videoCodecFromName(const char* encodingName);

/// Whether `payload` (the RTP payload, header and extensions stripped) is the first
/// packet of a keyframe. False for Unknown and for anything malformed.
bool startsKeyframe(VideoCodec codec, const std::uint8_t* payload, std::size_t size);

} // namespace manifold::media
