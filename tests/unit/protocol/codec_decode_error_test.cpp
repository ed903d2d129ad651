// Every way decodeClient / decodeServer refuse a frame: the code, the field named in the
// message, and the id echoed back when it was readable.
#include <gtest/gtest.h>

#include "CodecTestSupport.hpp"

namespace manifold::protocol {
namespace {

using namespace testing;

struct BadFrame {
    const char* name;
    std::string text;
    ErrorCode code;
    std::string messagePart; // must appear in DecodeError.message
    std::optional<RequestId> id = std::nullopt;
};

void PrintTo(const BadFrame& frame, std::ostream* os) { *os << frame.name; }

class ClientDecodeError : public ::testing::TestWithParam<BadFrame> {};

TEST_P(ClientDecodeError, IsRefused) {
    const BadFrame& bad = GetParam();
    const DecodeError error = clientError(bad.text);
    EXPECT_EQ(error.code, bad.code) << error.message;
    EXPECT_NE(error.message.find(bad.messagePart), std::string::npos)
        << "message: " << error.message << "\nexpected to contain: " << bad.messagePart;
    EXPECT_EQ(error.id, bad.id);
}

std::string repeat(std::string_view unit, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i)
        out += unit;
    return out;
}

std::string join(const std::string& members) {
    return R"({"type":"join","id":5,)" + members + "}";
}

std::string nested(std::size_t depth) {
    return R"({"type":"ping","id":1,"x":)" + repeat("[", depth - 1) + repeat("]", depth - 1) + "}";
}

std::string trackIds(std::size_t count) {
    std::string list;
    for (std::size_t i = 0; i < count; ++i)
        list += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
    return R"({"type":"subscribe","id":2,"trackIds":[)" + list + "]}";
}

const ErrorCode kMalformed = ErrorCode::MalformedJson;
const ErrorCode kInvalid = ErrorCode::InvalidMessage;
const ErrorCode kUnknown = ErrorCode::UnknownType;

INSTANTIATE_TEST_SUITE_P(
    NotJson, ClientDecodeError,
    ::testing::Values(
        BadFrame{"Empty", "", kMalformed, "not valid JSON"},
        BadFrame{"Blank", " \n\t", kMalformed, "unexpected end"},
        BadFrame{"Truncated", R"({"type":"ping","id":1)", kMalformed, "not valid JSON"},
        BadFrame{"Garbage", "hello", kMalformed, "unexpected character at byte 0"},
        BadFrame{"TrailingData", R"({"type":"ping","id":1} {})", kMalformed, "after the JSON value"},
        BadFrame{"TrailingComma", R"({"type":"ping","id":1,})", kMalformed, "not valid JSON"},
        BadFrame{"SingleQuotes", R"({'type':'ping','id':1})", kMalformed, "not valid JSON"},
        BadFrame{"Comment", R"(/*x*/{"type":"ping","id":1})", kMalformed, "not valid JSON"},
        BadFrame{"HexNumber", R"({"type":"ping","id":0x10})", kMalformed, "not valid JSON"},
        BadFrame{"LeadingZero", R"({"type":"ping","id":01})", kMalformed, "not valid JSON"},
        BadFrame{"BareFraction", R"({"type":"ping","id":.5})", kMalformed, "not valid JSON"},
        BadFrame{"DotWithoutDigits", R"({"type":"ping","id":1.})", kMalformed, "invalid number"},
        BadFrame{"NaN", R"({"type":"ping","id":NaN})", kMalformed, "not valid JSON"},
        BadFrame{"UnquotedKey", R"({type:"ping","id":1})", kMalformed, "expected a string key"},
        BadFrame{"Bom", "\xEF\xBB\xBF{\"type\":\"ping\",\"id\":1}", kMalformed, "not valid JSON"},
        BadFrame{"InvalidUtf8", "{\"type\":\"ping\",\"id\":1,\"x\":\"\xC3\x28\"}", kMalformed, "invalid UTF-8"},
        BadFrame{"NulByte", std::string("{\"type\":\"ping\",\0\"id\":1}", 23), kMalformed, "invalid UTF-8"},
        BadFrame{"LoneHighSurrogate", R"({"type":"ping","id":1,"x":"\ud800"})", kMalformed, "surrogate"},
        BadFrame{"LoneLowSurrogate", R"({"type":"ping","id":1,"x":"\udc00"})", kMalformed, "surrogate"},
        BadFrame{"BadEscape", R"({"type":"ping","id":1,"x":"\x41"})", kMalformed, "invalid escape"},
        BadFrame{"RawNewlineInString", "{\"type\":\"ping\",\"id\":1,\"x\":\"a\nb\"}", kMalformed, "control character"},
        BadFrame{"TooDeep", nested(33), kMalformed, "nesting deeper than 32"},
        BadFrame{"TopLevelArray", R"([{"type":"ping","id":1}])", kMalformed, "must be a JSON object"},
        BadFrame{"TopLevelString", R"("ping")", kMalformed, "must be a JSON object"},
        BadFrame{"TopLevelNumber", "1", kMalformed, "must be a JSON object"},
        BadFrame{"TopLevelNull", "null", kMalformed, "must be a JSON object"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Type, ClientDecodeError,
    ::testing::Values(
        BadFrame{"Missing", R"({"id":3})", kInvalid, "type is required", 3},
        BadFrame{"Number", R"({"type":7,"id":3})", kInvalid, "type must be a string", 3},
        BadFrame{"Null", R"({"type":null})", kInvalid, "type must be a string"},
        BadFrame{"Unknown", R"({"type":"dance","id":3})", kUnknown, "\"dance\"", 3},
        BadFrame{"ServerType", R"({"type":"welcome","id":3,"version":1,"server":"x"})", kUnknown, "welcome", 3},
        BadFrame{"CaseMatters", R"({"type":"PING","id":3})", kUnknown, "PING", 3},
        BadFrame{"Empty", R"({"type":"","id":3})", kUnknown, "unknown message type", 3},
        BadFrame{"VeryLong", R"({"type":")" + repeat("x", 100) + R"(","id":3})", kUnknown, "too long", 3}),
    [](const auto& info) { return std::string(info.param.name); });

// \u0000 is valid JSON but banned by the protocol: an invalid value (1002) naming the field,
// with the request's id.
INSTANTIATE_TEST_SUITE_P(
    Nul, ClientDecodeError,
    ::testing::Values(
        BadFrame{"JoinName", join(R"("room":"r","name":"a\u0000b")"), kInvalid, "join.name must not contain \\u0000", 5},
        BadFrame{"JoinNameOnlyNul", join(R"("room":"r","name":"\u0000")"), kInvalid, "join.name must not contain \\u0000", 5},
        BadFrame{"JoinNameBeforeRoom", R"({"type":"join","name":"\u0000","id":6,"room":"r"})", kInvalid, "join.name must not contain", 6},
        BadFrame{"UnknownField", R"({"type":"ping","id":1,"x":"a\u0000b"})", kInvalid, "ping.x must not contain \\u0000", 1},
        BadFrame{"MetadataNested", join(R"("room":"r","metadata":{"a":{"b":["x","\u0000"]}})"), kInvalid, "join.metadata.a.b[1] must not contain \\u0000", 5},
        BadFrame{"TrackIdsElement", R"({"type":"subscribe","id":2,"trackIds":["t1","t\u0000"]})", kInvalid, "subscribe.trackIds[1] must not contain", 2},
        BadFrame{"Type", R"({"type":"ping\u0000x","id":3})", kInvalid, "type must not contain \\u0000", 3},
        BadFrame{"TypeCutToUnknown", R"({"type":"pi\u0000ng","id":3})", kInvalid, "type must not contain", 3},
        // A member name cut at \u0000 could read as another member ("id"): no id is echoed.
        BadFrame{"MemberName", R"({"type":"ping","id":4,"id\u0000x":9})", kInvalid, "a member name of ping contains \\u0000"},
        BadFrame{"NestedMemberName", join(R"("room":"r","metadata":{"k\u0000":1})"), kInvalid, "a member name of join.metadata contains"},
        BadFrame{"CandidateHasNoId", R"({"type":"candidate","id":4,"candidate":"\u0000","sdpMLineIndex":0})", kInvalid, "candidate.candidate must not contain"},
        // Not JSON at all still wins over \u0000.
        BadFrame{"SyntaxErrorAfter", R"({"type":"ping","id":1,"x":"\u0000",})", kMalformed, "not valid JSON"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Ids, ClientDecodeError,
    ::testing::Values(
        BadFrame{"Missing", R"({"type":"ping"})", kInvalid, "ping.id is required"},
        BadFrame{"Negative", R"({"type":"ping","id":-1})", kInvalid, "ping.id must be an integer 0..9007199254740991"},
        BadFrame{"Fraction", R"({"type":"ping","id":1.5})", kInvalid, "ping.id must be an integer"},
        BadFrame{"Huge", R"({"type":"ping","id":1e300})", kInvalid, "ping.id must be an integer"},
        BadFrame{"TwoToThe53", R"({"type":"ping","id":9007199254740992})", kInvalid, "ping.id must be an integer"},
        BadFrame{"Int64Max", R"({"type":"ping","id":9223372036854775807})", kInvalid, "ping.id"},
        BadFrame{"WrapsUint64", R"({"type":"ping","id":18446744073709551617})", kInvalid, "ping.id"},
        BadFrame{"Wraps20Digits", R"({"type":"ping","id":99999999999999999999})", kInvalid, "ping.id"},
        // Valid JSON of any size (RFC 8259 sets no limit): beyond a double it is simply out of range.
        BadFrame{"FourHundredDigits", R"({"type":"ping","id":)" + repeat("9", 400) + "}", kInvalid, "ping.id must be an integer 0..9007199254740991"},
        BadFrame{"FourHundredDigitsNegative", R"({"type":"ping","id":-)" + repeat("1", 400) + "}", kInvalid, "ping.id must be an integer"},
        BadFrame{"BeyondDouble", R"({"type":"ping","id":1e999})", kInvalid, "ping.id must be an integer"},
        BadFrame{"BeyondDoubleNegative", R"({"type":"ping","id":-1E+400})", kInvalid, "ping.id must be an integer"},
        BadFrame{"BeyondDoubleLaterField", R"({"type":"answer","id":8,"negotiationId":)" + repeat("1", 400) + R"(,"sdp":""})", kInvalid, "answer.negotiationId must be an integer", 8},
        BadFrame{"String", R"({"type":"ping","id":"1"})", kInvalid, "ping.id must be an integer"},
        BadFrame{"Bool", R"({"type":"ping","id":true})", kInvalid, "ping.id"},
        BadFrame{"Null", R"({"type":"ping","id":null})", kInvalid, "ping.id"},
        BadFrame{"Array", R"({"type":"ping","id":[1]})", kInvalid, "ping.id"},
        BadFrame{"IdKeptForLaterField", R"({"type":"unpublish","id":42})", kInvalid, "unpublish.trackId is required", 42},
        BadFrame{"CandidateHasNoId", R"({"type":"candidate","id":42,"candidate":5,"sdpMLineIndex":0})", kInvalid, "candidate.candidate must be a string"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Fields, ClientDecodeError,
    ::testing::Values(
        // hello
        BadFrame{"HelloVersionsMissing", R"({"type":"hello","id":1})", kInvalid, "hello.versions is required", 1},
        BadFrame{"HelloVersionsEmpty", R"({"type":"hello","id":1,"versions":[]})", kInvalid, "hello.versions must be an array of 1..16 integers", 1},
        BadFrame{"HelloVersionsTooMany", R"({"type":"hello","id":1,"versions":[)" + repeat("1,", 16) + "1]}", kInvalid, "hello.versions must be an array of 1..16", 1},
        BadFrame{"HelloVersionNotInt", R"({"type":"hello","id":1,"versions":[1,"2"]})", kInvalid, "hello.versions[1] must be an integer", 1},
        BadFrame{"HelloVersionFraction", R"({"type":"hello","id":1,"versions":[1.5]})", kInvalid, "hello.versions[0]", 1},
        BadFrame{"HelloVersionZero", R"({"type":"hello","id":1,"versions":[0]})", kInvalid, "hello.versions[0]", 1},
        BadFrame{"HelloVersionsObject", R"({"type":"hello","id":1,"versions":{"0":1}})", kInvalid, "hello.versions must be an array", 1},
        BadFrame{"HelloClientNotString", R"({"type":"hello","id":1,"versions":[1],"client":{}})", kInvalid, "hello.client must be a string", 1},
        // join
        BadFrame{"JoinRoomMissing", join(R"("name":"x")"), kInvalid, "join.room is required", 5},
        BadFrame{"JoinRoomEmpty", join(R"("room":"")"), kInvalid, "join.room must be 1..128 characters of [A-Za-z0-9._~-]", 5},
        BadFrame{"JoinRoomSpace", join(R"("room":"my room")"), kInvalid, "join.room must be 1..128 characters of [A-Za-z0-9._~-]", 5},
        BadFrame{"JoinRoomSlash", join(R"("room":"../etc")"), kInvalid, "join.room", 5},
        BadFrame{"JoinRoomUnicode", join(R"("room":"caf\u00e9")"), kInvalid, "join.room", 5},
        BadFrame{"JoinRoomTooLong", join(R"("room":")" + repeat("r", 129) + "\""), kInvalid, "join.room", 5},
        BadFrame{"JoinRoomNumber", join(R"("room":7)"), kInvalid, "join.room", 5},
        BadFrame{"JoinTokenTooLong", join(R"("room":"r","token":")" + repeat("t", 8193) + "\""), kInvalid, "join.token must be a string of at most 8192 characters", 5},
        BadFrame{"JoinTokenNull", join(R"("room":"r","token":null)"), kInvalid, "join.token", 5},
        BadFrame{"JoinNameTooLong", join(R"("room":"r","name":")" + repeat("\xC3\xA9", 129) + "\""), kInvalid, "join.name must be a string of at most 128 characters", 5},
        BadFrame{"JoinMetadataString", join(R"("room":"r","metadata":"{}")"), kInvalid, "join.metadata must be a JSON object", 5},
        BadFrame{"JoinMetadataArray", join(R"("room":"r","metadata":[1])"), kInvalid, "join.metadata must be a JSON object", 5},
        BadFrame{"JoinMetadataNull", join(R"("room":"r","metadata":null)"), kInvalid, "join.metadata must be a JSON object", 5},
        BadFrame{"JoinMetadataHugeNumber", join(R"("room":"r","metadata":{"n":[1,)" + repeat("7", 400) + "]}"), kInvalid, "join.metadata must not hold numbers beyond the range of a double", 5},
        BadFrame{"JoinMetadataTooLarge", join(R"("room":"r","metadata":{"k":")" + repeat("m", 4089) + "\"}"), kInvalid, "join.metadata must be at most 4096 bytes", 5},
        BadFrame{"JoinAutoSubscribeString", join(R"("room":"r","autoSubscribe":"false")"), kInvalid, "join.autoSubscribe must be true or false", 5},
        BadFrame{"JoinAutoSubscribeNumber", join(R"("room":"r","autoSubscribe":0)"), kInvalid, "join.autoSubscribe", 5},
        // publish / unpublish
        BadFrame{"PublishKindMissing", R"({"type":"publish","id":1})", kInvalid, "publish.kind is required", 1},
        BadFrame{"PublishKindUnknown", R"({"type":"publish","id":1,"kind":"data"})", kInvalid, "publish.kind must be \"audio\" or \"video\"", 1},
        BadFrame{"PublishKindUpper", R"({"type":"publish","id":1,"kind":"Audio"})", kInvalid, "publish.kind", 1},
        BadFrame{"PublishLabelTooLong", R"({"type":"publish","id":1,"kind":"audio","label":")" + repeat("l", 65) + "\"}", kInvalid, "publish.label must be a string of at most 64 characters", 1},
        BadFrame{"UnpublishTrackIdEmpty", R"({"type":"unpublish","id":1,"trackId":""})", kInvalid, "unpublish.trackId must be a string of 1..64 characters", 1},
        BadFrame{"UnpublishTrackIdTooLong", R"({"type":"unpublish","id":1,"trackId":")" + repeat("t", 65) + "\"}", kInvalid, "unpublish.trackId", 1},
        // subscribe / unsubscribe
        BadFrame{"SubscribeTooMany", trackIds(257), kInvalid, "subscribe.trackIds must be an array of at most 256 strings", 2},
        BadFrame{"SubscribeNotArray", R"({"type":"subscribe","id":2,"trackIds":"t1"})", kInvalid, "subscribe.trackIds must be an array", 2},
        BadFrame{"SubscribeElementNumber", R"({"type":"subscribe","id":2,"trackIds":["t1",2]})", kInvalid, "subscribe.trackIds[1] must be a string of 1..64 characters", 2},
        BadFrame{"SubscribeElementEmpty", R"({"type":"subscribe","id":2,"trackIds":[""]})", kInvalid, "subscribe.trackIds[0]", 2},
        BadFrame{"UnsubscribeMissing", R"({"type":"unsubscribe","id":2})", kInvalid, "unsubscribe.trackIds is required", 2},
        BadFrame{"UnsubscribeTooMany", R"({"type":"unsubscribe","id":2,"trackIds":[)" + repeat("\"t\",", 256) + R"("t"]})", kInvalid, "unsubscribe.trackIds must be an array of at most 256 strings", 2},
        // mute / pause
        BadFrame{"MuteMissing", R"({"type":"mute","id":1,"trackId":"t"})", kInvalid, "mute.muted is required", 1},
        BadFrame{"MuteString", R"({"type":"mute","id":1,"trackId":"t","muted":"yes"})", kInvalid, "mute.muted must be true or false", 1},
        BadFrame{"PauseNumber", R"({"type":"pause","id":1,"trackId":"t","paused":1})", kInvalid, "pause.paused must be true or false", 1},
        BadFrame{"PauseTrackMissing", R"({"type":"pause","id":1,"paused":true})", kInvalid, "pause.trackId is required", 1},
        // answer / candidate
        BadFrame{"AnswerNegotiationMissing", R"({"type":"answer","id":1,"sdp":"v=0"})", kInvalid, "answer.negotiationId is required", 1},
        BadFrame{"AnswerNegotiationNegative", R"({"type":"answer","id":1,"negotiationId":-3,"sdp":"v=0"})", kInvalid, "answer.negotiationId must be an integer 0..9007199254740991", 1},
        BadFrame{"AnswerNegotiationString", R"({"type":"answer","id":1,"negotiationId":"3","sdp":"v=0"})", kInvalid, "answer.negotiationId", 1},
        BadFrame{"AnswerSdpMissing", R"({"type":"answer","id":1,"negotiationId":3})", kInvalid, "answer.sdp is required", 1},
        BadFrame{"AnswerSdpTooLong", R"({"type":"answer","id":1,"negotiationId":3,"sdp":")" + repeat("s", 65537) + "\"}", kInvalid, "answer.sdp must be a string of at most 65536 characters", 1},
        BadFrame{"CandidateMissing", R"({"type":"candidate","sdpMLineIndex":0})", kInvalid, "candidate.candidate is required"},
        BadFrame{"CandidateTooLong", R"({"type":"candidate","candidate":")" + repeat("c", 1025) + R"(","sdpMLineIndex":0})", kInvalid, "candidate.candidate must be a string of at most 1024"},
        BadFrame{"CandidateMLineMissing", R"({"type":"candidate","candidate":""})", kInvalid, "candidate.sdpMLineIndex is required"},
        BadFrame{"CandidateMLineTooBig", R"({"type":"candidate","candidate":"","sdpMLineIndex":1024})", kInvalid, "candidate.sdpMLineIndex must be an integer 0..1023"},
        BadFrame{"CandidateMLineNegative", R"({"type":"candidate","candidate":"","sdpMLineIndex":-1})", kInvalid, "candidate.sdpMLineIndex"},
        BadFrame{"CandidateMidTooLong", R"({"type":"candidate","candidate":"","sdpMLineIndex":0,"sdpMid":")" + repeat("m", 65) + "\"}", kInvalid, "candidate.sdpMid must be a string of at most 64"},
        BadFrame{"CandidateNegotiationFraction", R"({"type":"candidate","negotiationId":1.5,"candidate":"","sdpMLineIndex":0})", kInvalid, "candidate.negotiationId"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ClientDecodeLimits, FrameOverOneMebibyteIsTooLarge) {
    const std::string frame = R"({"type":"ping","id":1,"x":")" + std::string(1024 * 1024, 'x') + "\"}";
    EXPECT_EQ(clientError(frame).code, ErrorCode::MessageTooLarge);
}

TEST(ClientDecodeLimits, BoundsAreInclusive) {
    EXPECT_EQ(client<Join>(join(R"("room":")" + repeat("r", 128) + "\"")).room.size(), 128u);
    EXPECT_EQ(client<Join>(join(R"("room":"r","name":")" + repeat("\xC3\xA9", 128) + "\"")).name.size(), 256u)
        << "name counts characters, not bytes";
    EXPECT_EQ(client<Join>(join(R"("room":"r","metadata":{"k":")" + repeat("m", 4088) + "\"}")).metadataJson.size(), 4096u);
    EXPECT_EQ(client<Subscribe>(trackIds(256)).trackIds.size(), 256u);
    EXPECT_EQ(client<Hello>(R"({"type":"hello","id":1,"versions":[)" + repeat("1,", 15) + "1]}").versions.size(), 16u);
    EXPECT_EQ(client<Candidate>(R"({"type":"candidate","candidate":"","sdpMLineIndex":1023})").sdpMLineIndex, 1023);
    EXPECT_EQ(client<Ping>(nested(32)).id, 1);
}

TEST(ClientDecodeLimits, NumbersOfAnySizeAreValidJsonInFieldsNobodyReads) {
    // RFC 8259 numbers have no size limit; an unknown field holding one is ignored like any other.
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":7,"x":)" + repeat("9", 400) + "}").id, 7);
    EXPECT_EQ(client<Ping>(R"({"type":"ping","id":8,"x":[1e999,-1e999,1e-999]})").id, 8);
}

TEST(ClientDecodeLimits, DeepNestingIsRefusedWithoutRecursion) {
    const std::string deep = repeat("[", 200000);
    EXPECT_EQ(clientError(deep).code, ErrorCode::MalformedJson);
}

TEST(ClientDecodeLimits, FirstBadFieldIsNamed) {
    const DecodeError error = clientError(R"({"type":"join","id":1,"room":"bad room","token":5})");
    EXPECT_EQ(error.message, "join.room must be 1..128 characters of [A-Za-z0-9._~-]");
}

TEST(ServerDecodeError, FieldsAreCheckedToo) {
    EXPECT_EQ(serverError(R"({"type":"pong"})").message, "pong.id is required");
    EXPECT_EQ(serverError(R"({"type":"error","code":99,"reason":"x","message":""})").message,
              "error.code must be an integer 1000..9999");
    EXPECT_EQ(serverError(R"({"type":"error","id":-1,"code":1001,"reason":"x","message":""})").message,
              "error.id must be an integer 0..9007199254740991");
    EXPECT_EQ(serverError(R"({"type":"offer","negotiationId":1,"sdp":"","mids":[{"mid":"0","trackId":"t","participantId":"p","direction":"sendrecv"}]})").message,
              "offer.mids[0].direction must be \"send\" or \"recv\"");
    EXPECT_EQ(serverError(R"({"type":"offer","negotiationId":1,"sdp":"","mids":[7]})").message,
              "offer.mids[0] must be an object");
    EXPECT_EQ(serverError(R"({"type":"joined","id":1,"room":"r","participantId":"p","grants":{"join":true},"participants":[],"iceServers":[]})").message,
              "joined.grants.publish is required");
    EXPECT_EQ(serverError(R"({"type":"joined","id":1,"room":"r","participantId":"p","grants":{"join":true,"publish":true,"subscribe":true,"record":true,"admin":true},"participants":[{"id":"p2","identity":"","name":"","tracks":[{"id":"t","participantId":"p2","kind":"text","label":"","muted":false}]}],"iceServers":[]})").message,
              "joined.participants[0].tracks[0].kind must be \"audio\" or \"video\"");
    EXPECT_EQ(serverError(R"({"type":"joined","id":1,"room":"r","participantId":"p","grants":{"join":true,"publish":true,"subscribe":true,"record":true,"admin":true},"participants":[],"iceServers":[{"urls":[]}]})").message,
              "joined.iceServers[0].urls must be an array of 1..32 strings");
    EXPECT_EQ(serverError(R"({"type":"published","id":1,"track":null})").message,
              "published.track must be an object");
    EXPECT_EQ(serverError(R"({"type":"join","id":1,"room":"r"})").code, ErrorCode::UnknownType);
    EXPECT_EQ(serverError("[]").code, ErrorCode::MalformedJson);
    EXPECT_EQ(serverError(R"({"type":"pong","id":1e400})").message, "pong.id must be an integer 0..9007199254740991");
    const DecodeError nul = serverError(R"({"type":"disconnect","reason":"x\u0000","message":""})");
    EXPECT_EQ(nul.code, ErrorCode::InvalidMessage);
    EXPECT_EQ(nul.message, "disconnect.reason must not contain \\u0000");
}

} // namespace
} // namespace manifold::protocol

namespace manifold::protocol {
namespace {

TEST(PublishCodec, KnownCodecsAreNormalisedToUpperCase) {
    EXPECT_EQ(client<Publish>(R"({"type":"publish","id":1,"kind":"video","codec":"vp9"})").codec, "VP9");
    EXPECT_EQ(client<Publish>(R"({"type":"publish","id":1,"kind":"video","codec":"H264"})").codec, "H264");
    EXPECT_EQ(client<Publish>(R"({"type":"publish","id":1,"kind":"audio","codec":"opus"})").codec, "OPUS");
    EXPECT_EQ(client<Publish>(R"({"type":"publish","id":1,"kind":"video"})").codec, "");
}

TEST(PublishCodec, UnknownOrWrongKindIsRefused) {
    const DecodeError unknown = clientError(R"({"type":"publish","id":3,"kind":"video","codec":"H265"})");
    EXPECT_EQ(unknown.code, ErrorCode::InvalidMessage);
    EXPECT_EQ(unknown.id, 3);
    EXPECT_EQ(unknown.message, "publish.codec must be one of VP8, VP9, H264, AV1 for video");
    EXPECT_EQ(clientError(R"({"type":"publish","id":1,"kind":"audio","codec":"VP8"})").message,
              "publish.codec must be OPUS for audio");
    EXPECT_EQ(clientError(R"({"type":"publish","id":1,"kind":"video","codec":5})").code, ErrorCode::InvalidMessage);
}

} // namespace
} // namespace manifold::protocol
