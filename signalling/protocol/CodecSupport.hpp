// CodecSupport.hpp — what the codec's translation units share (codec-private).
//
// What: the wire limits of PROTOCOL.md ("Limits"), reading and writing of the value types
// that appear in several messages (TrackInfo, ParticipantInfo, Grants, MidMapping,
// IceServer, RoomInfo), and opening a frame (parse, object check, type and id).
// Thread: pure functions, any thread. Ownership: values in, values out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "signalling/protocol/Codec.hpp"
#include "signalling/protocol/JsonReader.hpp"
#include "signalling/protocol/JsonWriter.hpp"

namespace manifold::protocol::wire {

using json::Charset;
using json::JsonReader;
using json::JsonWriter;
using json::StringRule;

// ---------------------------------------------------------------- limits (PROTOCOL.md)

/// Frames and HTTP bodies larger than this are refused before parsing, whatever the
/// server's max-message-size says.
inline constexpr std::size_t kMaxFrameBytes = 1024 * 1024;

inline constexpr StringRule kRoom{1, 128, Charset::RoomName};
inline constexpr StringRule kName{0, 128};
inline constexpr StringRule kLabel{0, 64};
inline constexpr StringRule kCodec{0, 16};
inline constexpr StringRule kToken{0, 8192};
inline constexpr StringRule kSdp{0, 65536};
inline constexpr StringRule kCandidate{0, 1024};
inline constexpr StringRule kSdpMid{0, 64};
inline constexpr StringRule kObjectId{1, 64};   // trackId, participantId, mid
inline constexpr StringRule kIdentity{0, 256};
inline constexpr StringRule kSoftware{0, 256};  // hello.client, welcome.server
inline constexpr StringRule kReason{0, 64};     // participant-left / disconnect reasons
inline constexpr StringRule kText{0, 4096};     // human-readable messages
inline constexpr StringRule kUrl{1, 1024};
inline constexpr StringRule kCredential{0, 1024};
inline constexpr StringRule kRecordingPath{0, 4096};

inline constexpr std::size_t kMaxMetadataBytes = 4096;
inline constexpr std::size_t kMaxTrackIds = 256;
inline constexpr std::size_t kMaxVersions = 16;
inline constexpr int kMaxVersion = 65535;
inline constexpr int kMaxSdpMLineIndex = 1023;
inline constexpr std::int64_t kMaxNegotiationId = kMaxRequestId;
// Server-side arrays (decodeServer only; the server decides these sizes).
inline constexpr std::size_t kMaxParticipants = 10000;
inline constexpr std::size_t kMaxTracksPerParticipant = 1024;
inline constexpr std::size_t kMaxMids = 4096;
inline constexpr std::size_t kMaxIceServers = 32;
inline constexpr std::size_t kMaxIceUrls = 32;
inline constexpr int kMinErrorCode = 1000;
inline constexpr int kMaxErrorCode = 9999;

// ---------------------------------------------------------------- shared values

const char* directionName(MidMapping::Direction direction);

// Writers put the members of the value into the object the writer is currently in.
void writeTrack(JsonWriter& writer, const TrackInfo& track);
void writeParticipant(JsonWriter& writer, const ParticipantInfo& participant);
void writeGrants(JsonWriter& writer, const char* key, const Grants& grants);
void writeMid(JsonWriter& writer, const MidMapping& mid);
void writeIceServer(JsonWriter& writer, const IceServer& server);
void writeRoom(JsonWriter& writer, const RoomInfo& room);
void writeTracks(JsonWriter& writer, const char* key, const std::vector<TrackInfo>& tracks);
void writeParticipants(JsonWriter& writer, const char* key,
                       const std::vector<ParticipantInfo>& participants);

void readKind(JsonReader& reader, const char* key, MediaKind& out);
void readTrack(JsonReader& reader, TrackInfo& out);
void readParticipant(JsonReader& reader, ParticipantInfo& out);
/// All five grants required (server messages) or each optional and false when absent
/// (webhook replies).
void readGrants(JsonReader& reader, Grants& out, bool allRequired);
void readMid(JsonReader& reader, MidMapping& out);
void readIceServer(JsonReader& reader, IceServer& out);

/// Candidate is the one message of both directions.
void writeCandidate(JsonWriter& writer, const Candidate& candidate);
void readCandidate(JsonReader& reader, Candidate& out);

// ---------------------------------------------------------------- type names

template <typename Message>
inline constexpr const char* kTypeName = nullptr;
// client -> server
template <> inline constexpr const char* kTypeName<Hello> = "hello";
template <> inline constexpr const char* kTypeName<Join> = "join";
template <> inline constexpr const char* kTypeName<Leave> = "leave";
template <> inline constexpr const char* kTypeName<Publish> = "publish";
template <> inline constexpr const char* kTypeName<Unpublish> = "unpublish";
template <> inline constexpr const char* kTypeName<Subscribe> = "subscribe";
template <> inline constexpr const char* kTypeName<Unsubscribe> = "unsubscribe";
template <> inline constexpr const char* kTypeName<Mute> = "mute";
template <> inline constexpr const char* kTypeName<Pause> = "pause";
template <> inline constexpr const char* kTypeName<Answer> = "answer";
template <> inline constexpr const char* kTypeName<Candidate> = "candidate"; // both ways
template <> inline constexpr const char* kTypeName<Ping> = "ping";
// server -> client
template <> inline constexpr const char* kTypeName<Welcome> = "welcome";
template <> inline constexpr const char* kTypeName<Joined> = "joined";
template <> inline constexpr const char* kTypeName<Ok> = "ok";
template <> inline constexpr const char* kTypeName<Published> = "published";
template <> inline constexpr const char* kTypeName<Pong> = "pong";
template <> inline constexpr const char* kTypeName<ParticipantJoined> = "participant-joined";
template <> inline constexpr const char* kTypeName<ParticipantLeft> = "participant-left";
template <> inline constexpr const char* kTypeName<TrackPublished> = "track-published";
template <> inline constexpr const char* kTypeName<TrackUnpublished> = "track-unpublished";
template <> inline constexpr const char* kTypeName<TrackMuted> = "track-muted";
template <> inline constexpr const char* kTypeName<Offer> = "offer";
template <> inline constexpr const char* kTypeName<Speaking> = "speaking";
template <> inline constexpr const char* kTypeName<Disconnect> = "disconnect";
template <> inline constexpr const char* kTypeName<Error> = "error";

// ---------------------------------------------------------------- frames

/// A parsed frame: a JSON object with a string "type".
struct Frame {
    json::NodePtr root;
    JsonObject* object = nullptr; // borrowed from root
    std::string type;
    std::optional<RequestId> id;  // "id" when it is a valid request id
};

/// Parses `text` as a frame: too large -> MessageTooLarge; not JSON or not an object ->
/// MalformedJson; "type" missing or not a string -> InvalidMessage; a string holding
/// \u0000 (valid JSON, but banned by the protocol) -> InvalidMessage naming the field,
/// with the frame's id (none for a candidate, or when the \u0000 is in a member name,
/// which json-glib would have cut and possibly merged with another member).
std::variant<Frame, DecodeError> openFrame(std::string_view text);

/// An UnknownType DecodeError naming the frame's type.
DecodeError unknownType(const Frame& frame);

/// One entry of a decoder table: a type name and the function that reads that message.
template <typename Variant>
struct DecoderEntry {
    const char* type;
    Decoded<Variant> (*decode)(const Frame& frame);
};

/// Reads the frame's members into a `Message` with `read`; the entry point of the tables.
template <typename Variant, typename Message, void (*Read)(JsonReader&, Message&)>
Decoded<Variant> decodeAs(const Frame& frame) {
    JsonReader reader(frame.object, frame.type);
    Message message;
    Read(reader, message);
    if (!reader.ok())
        return DecodeError{ErrorCode::InvalidMessage, frame.id, reader.error()};
    return Variant{std::move(message)};
}

/// Opens `text` and dispatches on its type through `table`.
template <typename Variant, std::size_t N>
Decoded<Variant> decodeWith(std::string_view text, const DecoderEntry<Variant> (&table)[N]) {
    std::variant<Frame, DecodeError> opened = openFrame(text);
    if (auto* error = std::get_if<DecodeError>(&opened))
        return std::move(*error);
    const Frame& frame = std::get<Frame>(opened);
    for (const DecoderEntry<Variant>& entry : table) {
        if (frame.type == entry.type)
            return entry.decode(frame);
    }
    return unknownType(frame);
}

/// Encodes one message: "type" first, then what `write(JsonWriter&, const Message&)` adds.
template <typename Message, typename Write>
std::string encodeAs(const Message& message, Write&& write) {
    JsonWriter writer;
    writer.string("type", kTypeName<Message>);
    write(writer, message);
    return writer.finish();
}

} // namespace manifold::protocol::wire
