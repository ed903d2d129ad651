// fuzz_keyframe — libFuzzer target for pipelines/Keyframe.cpp (see tests/fuzz/meson.build).
//
// The payload of every forwarded video packet comes from the network; startsKeyframe
// reads its descriptor. The first input byte picks the codec, the rest is the payload,
// copied into a buffer of exactly that size so AddressSanitizer catches any read past
// its end. Invariant: no crash, no sanitizer report, and the answer does not depend on
// bytes after the end.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "pipelines/router/Keyframe.hpp"

using namespace manifold::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto codec = static_cast<VideoCodec>(data[0] % 5);
    const std::size_t n = size - 1;
    std::unique_ptr<std::uint8_t[]> payload(new std::uint8_t[n ? n : 1]);
    if (n) std::memcpy(payload.get(), data + 1, n);
    const bool first = startsKeyframe(codec, payload.get(), n);
    // The same bytes followed by garbage: a prefix's answer must not read the suffix.
    std::unique_ptr<std::uint8_t[]> longer(new std::uint8_t[n + 8]);
    if (n) std::memcpy(longer.get(), data + 1, n);
    std::memset(longer.get() + n, 0xff, 8);
    (void)startsKeyframe(codec, longer.get(), n + 8);
    if (startsKeyframe(codec, payload.get(), n) != first) std::abort(); // pure function
    return 0;
}
