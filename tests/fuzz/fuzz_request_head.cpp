// fuzz_request_head — libFuzzer target for signalling/server/RequestHead.cpp (see
// tests/fuzz/meson.build).
//
// Every byte of a request head comes from the network, and the scanner sees it before
// libsoup does. The first input byte picks the chunk size the rest is fed in (connections
// deliver a head in any split). Invariants: no crash, no sanitizer report; the verdict and
// where the head ends do not depend on the split (fed whole and fed in chunks agree); a
// head is never longer than the limits allow; a refusal has one of the statuses the guard
// answers with.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signalling/server/RequestHead.hpp"

using namespace manifold::server;

namespace {

struct Outcome {
    RequestHeadScanner::Verdict verdict = RequestHeadScanner::Verdict::NeedMore;
    std::size_t end = 0; // offset just past the head (Complete), or of the refusing chunk's end
    unsigned status = 0;
};

Outcome scan(std::string_view bytes, std::size_t chunk) {
    RequestHeadScanner scanner;
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        const std::string_view piece = bytes.substr(offset, chunk);
        const auto result = scanner.feed(piece);
        if (result.verdict == RequestHeadScanner::Verdict::Complete)
            return {result.verdict, offset + result.headBytes, 0};
        if (result.verdict == RequestHeadScanner::Verdict::Refused)
            return {result.verdict, 0, scanner.refusal().status};
        offset += piece.size();
    }
    return {};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t chunk = 1 + data[0] % 17;
    const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    const Outcome whole = scan(bytes, bytes.size() + 1);
    const Outcome split = scan(bytes, chunk);
    if (whole.verdict != split.verdict || whole.end != split.end || whole.status != split.status)
        std::abort();
    if (whole.verdict == RequestHeadScanner::Verdict::Complete &&
        whole.end > 16 + kMaxRequestLineBytes + 2 + kMaxHeaderBytes)
        std::abort();

    if (whole.verdict == RequestHeadScanner::Verdict::Refused) {
        RequestHeadScanner scanner;
        (void)scanner.feed(bytes);
        const unsigned status = scanner.refusal().status;
        if (status != 400 && status != 413 && status != 414 && status != 431 && status != 501) std::abort();
        (void)refusalResponse(scanner.refusal(), "manifold/fuzz");
    }
    return 0;
}
