// Round trips of every message type, both directions: encode -> decode -> equal, and the
// exact wire form of representative messages (the shapes PROTOCOL.md shows).
#include <set>

#include <gtest/gtest.h>

#include "CodecTestSupport.hpp"
#include "Examples.hpp"

namespace manifold::protocol {
namespace {

using namespace testing;

TEST(CodecRoundTrip, EveryClientMessage) {
    std::set<std::size_t> seen;
    for (const ClientMessage& message : examples::clientMessages()) {
        const std::string text = encodeClient(message);
        SCOPED_TRACE(text);
        const Decoded<ClientMessage> decoded = decodeClient(text);
        ASSERT_TRUE(std::holds_alternative<ClientMessage>(decoded))
            << std::get<DecodeError>(decoded).message;
        EXPECT_EQ(std::get<ClientMessage>(decoded), message);
        EXPECT_EQ(encodeClient(std::get<ClientMessage>(decoded)), text);
        seen.insert(message.index());
    }
    EXPECT_EQ(seen.size(), std::variant_size_v<ClientMessage>) << "an example is missing";
}

TEST(CodecRoundTrip, EveryServerMessage) {
    std::set<std::size_t> seen;
    for (const ServerMessage& message : examples::serverMessages()) {
        const std::string text = encodeServer(message);
        SCOPED_TRACE(text);
        const Decoded<ServerMessage> decoded = decodeServer(text);
        ASSERT_TRUE(std::holds_alternative<ServerMessage>(decoded))
            << std::get<DecodeError>(decoded).message;
        EXPECT_EQ(std::get<ServerMessage>(decoded), message);
        EXPECT_EQ(encodeServer(std::get<ServerMessage>(decoded)), text);
        seen.insert(message.index());
    }
    EXPECT_EQ(seen.size(), std::variant_size_v<ServerMessage>) << "an example is missing";
}

TEST(CodecRoundTrip, ClientWireForms) {
    EXPECT_EQ(encodeClient(Hello{1, {1}, "x/1"}),
              R"({"type":"hello","id":1,"versions":[1],"client":"x/1"})");
    EXPECT_EQ(encodeClient(Join{2, "demo", "", "", R"({"a": 1})", true}),
              R"({"type":"join","id":2,"room":"demo","metadata":{"a":1},"autoSubscribe":true})");
    EXPECT_EQ(encodeClient(Publish{3, MediaKind::Audio, ""}),
              R"({"type":"publish","id":3,"kind":"audio"})");
    EXPECT_EQ(encodeClient(Subscribe{4, {}}), R"({"type":"subscribe","id":4})");
    EXPECT_EQ(encodeClient(Answer{5, 9, "v=0"}),
              R"({"type":"answer","id":5,"negotiationId":9,"sdp":"v=0"})");
    EXPECT_EQ(encodeClient(Candidate{9, "c", "0", 0}),
              R"({"type":"candidate","negotiationId":9,"candidate":"c","sdpMid":"0","sdpMLineIndex":0})");
}

TEST(CodecRoundTrip, ServerWireForms) {
    EXPECT_EQ(encodeServer(Welcome{1, 1, "manifold/0.1.0"}),
              R"({"type":"welcome","id":1,"version":1,"server":"manifold/0.1.0"})");
    EXPECT_EQ(encodeServer(Error{7, ErrorCode::TokenExpired, "expired"}),
              R"({"type":"error","id":7,"code":2005,"reason":"token-expired","message":"expired"})");
    EXPECT_EQ(encodeServer(Error{std::nullopt, ErrorCode::MalformedJson, "x"}),
              R"({"type":"error","code":1001,"reason":"malformed-json","message":"x"})");
    EXPECT_EQ(encodeServer(Candidate{0, "", "", 0}),
              R"({"type":"candidate","candidate":"","sdpMLineIndex":0})");
    EXPECT_EQ(encodeServer(Published{6, TrackInfo{"t1", "p1", MediaKind::Video, "", true}}),
              R"({"type":"published","id":6,"track":{"id":"t1","participantId":"p1","kind":"video","label":"","muted":true}})");
    EXPECT_EQ(encodeServer(Offer{2, "v=0", {MidMapping{"0", "t1", "p1", MidMapping::Direction::Send}}}),
              R"({"type":"offer","negotiationId":2,"sdp":"v=0","mids":[{"mid":"0","trackId":"t1","participantId":"p1","direction":"send"}]})");
    EXPECT_EQ(encodeServer(Joined{3, "r", "p1", Grants{true, false, true, false, false}, {}, {IceServer{{"stun:s"}, "", ""}}}),
              R"({"type":"joined","id":3,"room":"r","participantId":"p1","grants":{"join":true,"publish":false,"subscribe":true,"record":false,"admin":false},"participants":[],"iceServers":[{"urls":["stun:s"]}]})");
    EXPECT_EQ(encodeServer(ParticipantJoined{ParticipantInfo{"p1", "alice", "A", R"({"k":[1,{"z":null}]})", {}}}),
              R"({"type":"participant-joined","participant":{"id":"p1","identity":"alice","name":"A","metadata":{"k":[1,{"z":null}]},"tracks":[]}})");
}

TEST(CodecRoundTrip, DefaultsAndOptionalFields) {
    const Join join = client<Join>(R"({"type":"join","id":1,"room":"r"})");
    EXPECT_TRUE(join.autoSubscribe);
    EXPECT_EQ(join.token, "");
    EXPECT_EQ(join.metadataJson, "");
    const Publish publish = client<Publish>(R"({"type":"publish","id":1,"kind":"video"})");
    EXPECT_EQ(publish.label, "");
    EXPECT_EQ(publish.kind, MediaKind::Video);
    EXPECT_TRUE(client<Subscribe>(R"({"type":"subscribe","id":1,"trackIds":[]})").trackIds.empty());
    const Candidate candidate = client<Candidate>(R"({"type":"candidate","candidate":"","sdpMLineIndex":2})");
    EXPECT_EQ(candidate.negotiationId, 0u);
    EXPECT_EQ(candidate.sdpMLineIndex, 2);
    EXPECT_EQ(server<Error>(R"({"type":"error","code":1001,"reason":"x","message":""})").id, std::nullopt);
}

TEST(CodecRoundTrip, UnknownFieldsAreIgnored) {
    const Ping ping = client<Ping>(R"({"future":{"x":[1,2]},"type":"ping","id":4,"extra":null})");
    EXPECT_EQ(ping.id, 4);
}

TEST(CodecRoundTrip, IntegralNumbersInAnySpelling) {
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":7.0})").id, 7);
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":7e0})").id, 7);
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":0.07e2})").id, 7);
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":-0})").id, 0);
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":9007199254740991})").id, kMaxRequestId);
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":9007199254740991.0})").id, kMaxRequestId);
}

TEST(CodecRoundTrip, MetadataIsKeptAsCompactText) {
    const Join join = client<Join>(
        "{\"type\":\"join\",\"id\":1,\"room\":\"r\",\"metadata\": { \"a\" : [ 1 , 2.5, \"\\u00e9\" ] ,\n \"b\":{}}}");
    EXPECT_EQ(join.metadataJson, "{\"a\":[1,2.5,\"\xC3\xA9\"],\"b\":{}}");
    EXPECT_EQ(client<Join>(R"({"type":"join","id":1,"room":"r","metadata":{}})").metadataJson, "{}");
}

// Found by fuzz_codec: json-glib's generator wrote 1e57 as the invalid "1e+57.0", so the
// metadata vanished on re-encoding.
TEST(CodecRoundTrip, MetadataNumbersSurviveTwoRoundTrips) {
    const Join join = client<Join>(
        R"({"type":"join","id":1,"room":"r","metadata":{"a":1e57,"b":0.1,"c":-0.0,"d":-0,)"
        R"("e":999999999999999999999999,"f":9223372036854775807,"g":1.5e-7,"h":2E+3,"a":7}})");
    EXPECT_EQ(join.metadataJson,
              R"({"a":7,"b":0.1,"c":-0.0,"d":0,"e":1e+24,"f":9.223372036854776e+18,"g":1.5e-07,"h":2000.0})");
    const Join again = client<Join>(encodeClient(join));
    EXPECT_EQ(again, join);
    EXPECT_EQ(client<Join>(R"({"type":"join","id":1,"room":"r","metadata":{"x":1e57}})").metadataJson,
              R"({"x":1e+57})");
}

TEST(CodecRoundTrip, UnicodeStrings) {
    const std::string name = "J\xC3\xBCrgen \xF0\x9F\x98\x80 \xE6\x97\xA5"; // Jürgen 😀 日
    const Join join{1, "r", "", name, "", true};
    const std::string text = encodeClient(join);
    EXPECT_EQ(client<Join>(text).name, name);
    // Escaped surrogate pairs decode to the same UTF-8.
    EXPECT_EQ(client<Join>(R"({"type":"join","id":1,"room":"r","name":"\ud83d\ude00"})").name,
              "\xF0\x9F\x98\x80");
    // Control characters and quotes survive.
    const Join tricky{1, "r", "", "a\"b\\c\n\t\x01", "", true};
    EXPECT_EQ(client<Join>(encodeClient(tricky)), tricky);
}

TEST(CodecRoundTrip, EncoderRepairsInvalidUtf8) {
    const std::string text = encodeServer(Disconnect{"kicked", "bad \xFF\xFE bytes"});
    const Disconnect decoded = server<Disconnect>(text);
    EXPECT_EQ(decoded.message, "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST(CodecRoundTrip, EncoderOmitsMetadataThatIsNotAnObject) {
    EXPECT_EQ(encodeClient(Join{1, "r", "", "", "[1,2]", true}),
              R"({"type":"join","id":1,"room":"r","autoSubscribe":true})");
    EXPECT_EQ(encodeClient(Join{1, "r", "", "", "{broken", true}),
              R"({"type":"join","id":1,"room":"r","autoSubscribe":true})");
}

TEST(CodecRoundTrip, UnknownErrorCodeFromANewerServer) {
    const Error error = server<Error>(R"({"type":"error","id":1,"code":4999,"reason":"new","message":"m"})");
    EXPECT_EQ(static_cast<int>(error.code), 4999);
    EXPECT_STREQ(errorReason(error.code), "unknown-error");
}

} // namespace
} // namespace manifold::protocol
