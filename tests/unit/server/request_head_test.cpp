// RequestHead: the head scanner that runs before libsoup reads a request: 414, 431, junk,
// and the body framing (duplicate and invalid Content-Length, issue 10 item 6).
#include <gtest/gtest.h>

#include <string>

#include "signalling/server/RequestHead.hpp"

namespace manifold::server {
namespace {

using Verdict = RequestHeadScanner::Verdict;

std::string requestLineOf(std::size_t bytes) {
    // "GET /aaa… HTTP/1.1" of exactly `bytes` bytes
    const std::string fixed = "GET / HTTP/1.1";
    return "GET /" + std::string(bytes - fixed.size(), 'a') + " HTTP/1.1";
}

std::string headerSectionOf(std::size_t bytes) {
    // "Host: x\r\nX: bbb…\r\n\r\n" of exactly `bytes` bytes (blank line included)
    const std::string fixed = "Host: x\r\nX: \r\n\r\n";
    return "Host: x\r\nX: " + std::string(bytes - fixed.size(), 'b') + "\r\n\r\n";
}

RequestHeadScanner::Result feedAll(RequestHeadScanner& scanner, const std::string& bytes) {
    return scanner.feed(bytes);
}

// Feeds one byte at a time; returns the first verdict other than NeedMore and the index of
// the byte that gave it (bytes.size() when none did).
std::pair<Verdict, std::size_t> drip(RequestHeadScanner& scanner, const std::string& bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto result = scanner.feed(bytes.substr(i, 1));
        if (result.verdict != Verdict::NeedMore)
            return {result.verdict, i};
    }
    return {Verdict::NeedMore, bytes.size()};
}

TEST(RequestHeadScanner, FindsTheEndOfTheHeadAndLeavesTheBody) {
    const std::string head = "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n";
    RequestHeadScanner scanner;
    const auto result = scanner.feed(head + "BODY");
    EXPECT_EQ(result.verdict, Verdict::Complete);
    EXPECT_EQ(result.headBytes, head.size());
}

TEST(RequestHeadScanner, BareLineFeedsAndLeadingEmptyLinesAreAccepted) {
    RequestHeadScanner scanner;
    EXPECT_EQ(scanner.feed("GET / HTTP/1.1\nHost: x\n\n").verdict, Verdict::Complete);
    scanner.reset();
    EXPECT_EQ(scanner.feed("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").verdict, Verdict::Complete); // RFC 9112 2.2
}

TEST(RequestHeadScanner, AHeadDrippedByteByByteEndsOnItsLastByte) {
    const std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    RequestHeadScanner scanner;
    const auto [verdict, at] = drip(scanner, head);
    EXPECT_EQ(verdict, Verdict::Complete);
    EXPECT_EQ(at, head.size() - 1);
}

TEST(RequestHeadScanner, ResetScansTheNextRequestOfAKeptAliveConnection) {
    RequestHeadScanner scanner;
    ASSERT_EQ(scanner.feed("GET / HTTP/1.1\r\n\r\n").verdict, Verdict::Complete);
    scanner.reset();
    EXPECT_EQ(scanner.feed("\x16\x03\x01").verdict, Verdict::Refused);
}

TEST(RequestHeadScanner, ARequestLineOverTheLimitIs414EvenWhenDripped) {
    RequestHeadScanner scanner;
    EXPECT_EQ(feedAll(scanner, requestLineOf(kMaxRequestLineBytes) + "\r\nHost: x\r\n\r\n").verdict, Verdict::Complete);

    scanner.reset();
    auto result = feedAll(scanner, requestLineOf(kMaxRequestLineBytes + 1) + "\r\nHost: x\r\n\r\n");
    ASSERT_EQ(result.verdict, Verdict::Refused);
    EXPECT_EQ(scanner.refusal().status, 414u);

    // Refused as soon as the limit is passed, without waiting for the line's end (libsoup
    // itself would wait for 64 KiB, then drop the connection without an answer).
    scanner.reset();
    const auto [verdict, at] = drip(scanner, "GET /" + std::string(100000, 'a'));
    EXPECT_EQ(verdict, Verdict::Refused);
    EXPECT_EQ(at, kMaxRequestLineBytes);
    EXPECT_EQ(scanner.refusal().status, 414u);
}

TEST(RequestHeadScanner, AHeaderSectionOverTheLimitIs431) {
    RequestHeadScanner scanner;
    EXPECT_EQ(feedAll(scanner, "GET / HTTP/1.1\r\n" + headerSectionOf(kMaxHeaderBytes)).verdict, Verdict::Complete);

    scanner.reset();
    ASSERT_EQ(feedAll(scanner, "GET / HTTP/1.1\r\n" + headerSectionOf(kMaxHeaderBytes + 1)).verdict, Verdict::Refused);
    EXPECT_EQ(scanner.refusal().status, 431u);

    scanner.reset(); // many small fields add up the same
    std::string many = "GET / HTTP/1.1\r\n";
    while (many.size() < 2 * kMaxHeaderBytes)
        many += "X-Field: value\r\n";
    ASSERT_EQ(feedAll(scanner, many).verdict, Verdict::Refused);
    EXPECT_EQ(scanner.refusal().status, 431u);
}

TEST(RequestHeadScanner, BytesThatCannotStartARequestAre400AtOnce) {
    for (const std::string& junk : {std::string("\x16\x03\x01\x02\x00", 5), // TLS ClientHello on the plain port
                                   std::string(" GET / HTTP/1.1\r\n"),       // no method
                                   std::string("GE(T / HTTP/1.1\r\n"),       // not a token
                                   std::string("\xff\xfe\xfd"),
                                   std::string(33, 'A') + " / HTTP/1.1\r\n"}) {   // a 33-byte method
        SCOPED_TRACE(junk);
        RequestHeadScanner scanner;
        ASSERT_EQ(scanner.feed(junk).verdict, Verdict::Refused);
        EXPECT_EQ(scanner.refusal().status, 400u);
    }
    // 4 KiB of pseudo-random binary: refused within its first bytes, not held open.
    std::string junk;
    unsigned x = 12345;
    for (int i = 0; i < 4096; ++i) {
        x = x * 1103515245u + 12345u;
        junk += char(x >> 16);
    }
    RequestHeadScanner scanner;
    const auto [verdict, at] = drip(scanner, junk);
    EXPECT_EQ(verdict, Verdict::Refused);
    EXPECT_LT(at, 64u);
}

TEST(RequestHeadScanner, NulBytesBareCrAndControlCharactersAre400) {
    for (const std::string& bad : {std::string("GET /a\0b HTTP/1.1\r\n\r\n", 21),
                                  std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26),
                                  std::string("GET /a\rb HTTP/1.1\r\n\r\n"),
                                  std::string("GET /a\x01 HTTP/1.1\r\n\r\n"),
                                  std::string("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n")}) {
        SCOPED_TRACE(bad);
        RequestHeadScanner scanner;
        ASSERT_EQ(scanner.feed(bad).verdict, Verdict::Refused);
        EXPECT_EQ(scanner.refusal().status, 400u);
    }
}

TEST(RequestHeadScanner, NothingIsDecidedAfterTheVerdict) {
    RequestHeadScanner scanner;
    ASSERT_EQ(scanner.feed("\x01").verdict, Verdict::Refused);
    EXPECT_EQ(scanner.feed("GET / HTTP/1.1\r\n\r\n").verdict, Verdict::Refused);
}

// Body framing (RFC 9112 6), judged on the raw head before libsoup parses it.
RequestHeadScanner::Result scanHead(RequestHeadScanner& scanner, const std::string& fields) {
    return scanner.feed("POST /healthz HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n");
}

void expectRefused(const std::string& fields, unsigned status, const char* reasonPart) {
    SCOPED_TRACE(fields);
    RequestHeadScanner scanner;
    ASSERT_EQ(scanHead(scanner, fields).verdict, Verdict::Refused);
    EXPECT_EQ(scanner.refusal().status, status);
    EXPECT_NE(scanner.refusal().reason.find(reasonPart), std::string::npos) << scanner.refusal().reason;
}

TEST(BodyFraming, OneOrRepeatedEqualContentLengthsAreFine) {
    for (const std::string& fields : {std::string(""), std::string("Content-Length: 3\r\n"),
                                      std::string("Content-Length: 3\r\ncontent-length: 003\r\n"),
                                      std::string("CONTENT-LENGTH:\t3 \r\n"), std::string("Transfer-Encoding: Chunked\r\n"),
                                      std::string("Content-Length: ") + std::to_string(kMaxRequestBodyBytes) + "\r\n",
                                      std::string("Content-Length-Extra: x\r\nX-Content-Length: -1\r\n"),
                                      std::string("Content Length: -1\r\n")}) { // no field we read; libsoup ignores it
        SCOPED_TRACE(fields);
        RequestHeadScanner scanner;
        EXPECT_EQ(scanHead(scanner, fields).verdict, Verdict::Complete);
    }
}

TEST(BodyFraming, DifferingContentLengthsAre400) {
    // RFC 9112 6.3: the request-smuggling vector behind a proxy; libsoup read the last one.
    expectRefused("Content-Length: 3\r\nContent-Length: 30\r\n", 400, "differ");
    expectRefused("content-length: 30\r\nCONTENT-LENGTH: 3\r\n", 400, "differ");
}

TEST(BodyFraming, AContentLengthThatIsNotOnePlainNumberIs400) {
    // libsoup reads "-1" with strtoull (a huge length) and waits for that body for ever; on
    // "3, 30" or "abc" it answers 400 itself, leaking the request path.
    for (const char* value : {"-1", "+3", "", " ", "3a", "0x10", "3,", "3, 30", "3, 3", "1e3", "3 3", "12345678901234567890"})
        expectRefused(std::string("Content-Length: ") + value + "\r\n", 400, "Content-Length");
}

TEST(BodyFraming, ContentLengthWithTransferEncodingIs400) {
    expectRefused("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400, "both");
    expectRefused("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400, "both");
}

TEST(BodyFraming, TransferCodingsOtherThanOneChunkedAre501) {
    for (const char* value : {"gzip", "gzip, chunked", "identity", ""})
        expectRefused(std::string("Transfer-Encoding: ") + value + "\r\n", 501, "chunked");
    expectRefused("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 501, "chunked");
}

TEST(BodyFraming, ADeclaredBodyOverTheCapIs413) {
    expectRefused("Content-Length: " + std::to_string(kMaxRequestBodyBytes + 1) + "\r\n", 413, "larger");
}

TEST(BodyFraming, FieldsLibsoupWouldMisreadAre400) {
    expectRefused("Content-Length : 3\r\n", 400, "whitespace");        // libsoup ignores the line
    expectRefused("Host2: a\r\n b\r\n", 400, "folded");                // obs-fold (RFC 9112 5.2)
    expectRefused("Content-Length: 3\r\n\t4\r\n", 400, "folded");
}

TEST(RefusalResponse, IsACompleteAnswerThatClosesTheConnection) {
    const std::string response = refusalResponse(Refusal{414, "too long"}, "manifold/test");
    EXPECT_EQ(response.rfind("HTTP/1.1 414 URI Too Long\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("\r\nServer: manifold/test\r\n"), std::string::npos);
    EXPECT_NE(response.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_NE(response.find("\r\nContent-Length: 9\r\n"), std::string::npos);
    EXPECT_EQ(response.substr(response.size() - 13), "\r\n\r\ntoo long\n");
    EXPECT_EQ(refusalResponse(Refusal{431, "x"}, "").rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
}

} // namespace
} // namespace manifold::server
