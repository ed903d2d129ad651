#include "pipelines/router/Keyframe.hpp"

#include <strings.h>

namespace manifold::media {

namespace {

// RFC 7741, 4.2: the payload descriptor, then (on the first packet of a frame: S=1,
// partition 0) the VP8 payload header, whose lowest bit P is 0 for a keyframe.
bool vp8(const std::uint8_t* p, std::size_t n) {
    if (n < 1) return false;
    const bool extended = p[0] & 0x80, start = p[0] & 0x10;
    const int partition = p[0] & 0x07;
    if (!start || partition != 0) return false;
    std::size_t i = 1;
    if (extended) {
        if (n < 2) return false;
        const std::uint8_t x = p[1];
        i = 2;
        if (x & 0x80) { // I: picture id, 7 or 15 bits (M)
            if (n <= i) return false;
            i += (p[i] & 0x80) ? 2 : 1;
        }
        if (x & 0x40) ++i;          // L: TL0PICIDX
        if (x & 0x30) ++i;          // T or K: TID/Y/KEYIDX
    }
    return n > i && (p[i] & 0x01) == 0;
}

// RFC 9628, 4.2: I P L F B E V Z. A frame that is not inter-predicted (P=0), at its
// beginning (B=1); with layer indices (L), only the base spatial layer starts a keyframe.
bool vp9(const std::uint8_t* p, std::size_t n) {
    if (n < 1) return false;
    const bool picId = p[0] & 0x80, predicted = p[0] & 0x40, layers = p[0] & 0x20, begin = p[0] & 0x08;
    if (predicted || !begin) return false;
    if (!layers) return true;
    std::size_t i = 1;
    if (picId) {
        if (n <= i) return false;
        i += (p[i] & 0x80) ? 2 : 1;
    }
    if (n <= i) return false;
    const int spatialId = (p[i] >> 1) & 0x07; // TID(3) U(1) SID(3) D(1)
    return spatialId == 0;
}

bool h264Nal(std::uint8_t type) { return type == 5 || type == 7; } // IDR slice or SPS

// RFC 6184, 5.2: a single NAL unit, an STAP-A (24) of several, or an FU-A (28) fragment.
bool h264(const std::uint8_t* p, std::size_t n) {
    if (n < 1) return false;
    const std::uint8_t type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) return h264Nal(type);
    if (type == 24) {
        for (std::size_t i = 1; i + 2 < n;) {
            const std::size_t size = (std::size_t(p[i]) << 8) | p[i + 1];
            if (size == 0 || i + 2 + size > n) return false;
            if (h264Nal(p[i + 2] & 0x1f)) return true;
            i += 2 + size;
        }
        return false;
    }
    if (type == 28) return n >= 2 && (p[1] & 0x80) && h264Nal(p[1] & 0x1f);
    return false;
}

// AV1 RTP specification, 4.4: aggregation header Z Y W W N - - -; N=1 marks the first
// packet of a coded video sequence (starts with a sequence header and a key frame).
bool av1(const std::uint8_t* p, std::size_t n) { return n >= 1 && (p[0] & 0x08) && !(p[0] & 0x80); }

} // namespace

VideoCodec videoCodecFromName(const char* name) {
    if (!name) return VideoCodec::Unknown;
    if (strcasecmp(name, "VP8") == 0) return VideoCodec::VP8;
    if (strcasecmp(name, "VP9") == 0) return VideoCodec::VP9;
    if (strcasecmp(name, "H264") == 0) return VideoCodec::H264;
    if (strcasecmp(name, "AV1") == 0) return VideoCodec::AV1;
    return VideoCodec::Unknown;
}

bool startsKeyframe(VideoCodec codec, const std::uint8_t* payload, std::size_t size) {
    if (!payload) return false;
    switch (codec) {
    case VideoCodec::VP8: return vp8(payload, size);
    case VideoCodec::VP9: return vp9(payload, size);
    case VideoCodec::H264: return h264(payload, size);
    case VideoCodec::AV1: return av1(payload, size);
    case VideoCodec::Unknown: break;
    }
    return false;
}

} // namespace manifold::media
