// CodecSupport.cpp — see CodecSupport.hpp.
#include "signalling/protocol/CodecSupport.hpp"

#include "signalling/protocol/JsonDocument.hpp"

namespace manifold::protocol::wire {

const char* directionName(MidMapping::Direction direction) {
    switch (direction) {
    case MidMapping::Direction::Send: return "send";
    case MidMapping::Direction::Recv: return "recv";
    }
    return "recv";
}

void writeTrack(JsonWriter& writer, const TrackInfo& track) {
    writer.string("id", track.id);
    writer.string("participantId", track.participantId);
    writer.string("kind", toString(track.kind));
    writer.string("label", track.label);
    writer.boolean("muted", track.muted);
}

void writeTracks(JsonWriter& writer, const char* key, const std::vector<TrackInfo>& tracks) {
    writer.beginArray(key);
    for (const TrackInfo& track : tracks) {
        writer.beginObject();
        writeTrack(writer, track);
        writer.endObject();
    }
    writer.endArray();
}

void writeParticipant(JsonWriter& writer, const ParticipantInfo& participant) {
    writer.string("id", participant.id);
    writer.string("identity", participant.identity);
    writer.string("name", participant.name);
    writer.objectText("metadata", participant.metadataJson);
    writeTracks(writer, "tracks", participant.tracks);
}

void writeParticipants(JsonWriter& writer, const char* key,
                       const std::vector<ParticipantInfo>& participants) {
    writer.beginArray(key);
    for (const ParticipantInfo& participant : participants) {
        writer.beginObject();
        writeParticipant(writer, participant);
        writer.endObject();
    }
    writer.endArray();
}

void writeGrants(JsonWriter& writer, const char* key, const Grants& grants) {
    writer.beginObject(key);
    writer.boolean("join", grants.join);
    writer.boolean("publish", grants.publish);
    writer.boolean("subscribe", grants.subscribe);
    writer.boolean("record", grants.record);
    writer.boolean("admin", grants.admin);
    writer.endObject();
}

void writeMid(JsonWriter& writer, const MidMapping& mid) {
    writer.string("mid", mid.mid);
    // An idle m-line (kept for reuse) has no track: both ids are omitted.
    writer.optionalString("trackId", mid.trackId);
    writer.optionalString("participantId", mid.participantId);
    writer.string("direction", directionName(mid.direction));
}

void writeIceServer(JsonWriter& writer, const IceServer& server) {
    writer.beginArray("urls");
    for (const std::string& url : server.urls)
        writer.stringElement(url);
    writer.endArray();
    writer.optionalString("username", server.username);
    writer.optionalString("credential", server.credential);
}

void writeRoom(JsonWriter& writer, const RoomInfo& room) {
    writer.string("name", room.name);
    writeParticipants(writer, "participants", room.participants);
}

void readKind(JsonReader& reader, const char* key, MediaKind& out) {
    std::string kind;
    reader.string(key, kind, {0, 16});
    if (!reader.ok())
        return;
    if (kind == "audio")
        out = MediaKind::Audio;
    else if (kind == "video")
        out = MediaKind::Video;
    else
        reader.fail(reader.field(key) + " must be \"audio\" or \"video\"");
}

void readTrack(JsonReader& reader, TrackInfo& out) {
    reader.string("id", out.id, kObjectId);
    reader.string("participantId", out.participantId, kObjectId);
    readKind(reader, "kind", out.kind);
    reader.string("label", out.label, kLabel);
    reader.boolean("muted", out.muted);
}

void readParticipant(JsonReader& reader, ParticipantInfo& out) {
    reader.string("id", out.id, kObjectId);
    reader.string("identity", out.identity, kIdentity);
    reader.string("name", out.name, kName);
    reader.optionalObjectText("metadata", out.metadataJson, kMaxMetadataBytes);
    reader.objectArray("tracks", out.tracks, kMaxTracksPerParticipant, readTrack);
}

void readGrants(JsonReader& reader, Grants& out, bool allRequired) {
    if (allRequired) {
        reader.boolean("join", out.join);
        reader.boolean("publish", out.publish);
        reader.boolean("subscribe", out.subscribe);
        reader.boolean("record", out.record);
        reader.boolean("admin", out.admin);
    } else {
        out = Grants{};
        reader.optionalBoolean("join", out.join);
        reader.optionalBoolean("publish", out.publish);
        reader.optionalBoolean("subscribe", out.subscribe);
        reader.optionalBoolean("record", out.record);
        reader.optionalBoolean("admin", out.admin);
    }
}

void readMid(JsonReader& reader, MidMapping& out) {
    reader.string("mid", out.mid, kObjectId);
    reader.optionalString("trackId", out.trackId, kObjectId);
    reader.optionalString("participantId", out.participantId, kObjectId);
    std::string direction;
    reader.string("direction", direction, {0, 16});
    if (!reader.ok())
        return;
    if (direction == "send")
        out.direction = MidMapping::Direction::Send;
    else if (direction == "recv")
        out.direction = MidMapping::Direction::Recv;
    else
        reader.fail(reader.field("direction") + " must be \"send\" or \"recv\"");
}

void readIceServer(JsonReader& reader, IceServer& out) {
    reader.stringArray("urls", out.urls, 1, kMaxIceUrls, kUrl);
    reader.optionalString("username", out.username, kCredential);
    reader.optionalString("credential", out.credential, kCredential);
}

void writeCandidate(JsonWriter& writer, const Candidate& candidate) {
    if (candidate.negotiationId != 0)
        writer.integer("negotiationId", static_cast<std::int64_t>(candidate.negotiationId));
    writer.string("candidate", candidate.candidate);
    writer.optionalString("sdpMid", candidate.sdpMid);
    writer.integer("sdpMLineIndex", candidate.sdpMLineIndex);
}

void readCandidate(JsonReader& reader, Candidate& out) {
    reader.optionalInteger("negotiationId", out.negotiationId, 0, kMaxNegotiationId);
    reader.string("candidate", out.candidate, kCandidate);
    reader.optionalString("sdpMid", out.sdpMid, kSdpMid);
    reader.integer("sdpMLineIndex", out.sdpMLineIndex, 0, kMaxSdpMLineIndex);
}

std::variant<Frame, DecodeError> openFrame(std::string_view text) {
    if (text.size() > kMaxFrameBytes)
        return DecodeError{ErrorCode::MessageTooLarge, std::nullopt,
                           "frame is larger than " + std::to_string(kMaxFrameBytes) + " bytes"};
    std::string problem;
    Frame frame;
    std::optional<json::NulString> nul;
    frame.root = json::parseJson(text, problem, nul);
    if (!frame.root)
        return DecodeError{ErrorCode::MalformedJson, std::nullopt,
                           "frame is not valid JSON: " + problem};
    if (!JSON_NODE_HOLDS_OBJECT(frame.root.get()))
        return DecodeError{ErrorCode::MalformedJson, std::nullopt, "frame must be a JSON object"};
    frame.object = json_node_get_object(frame.root.get());
    std::int64_t id = 0;
    if (json::integerValue(json_object_get_member(frame.object, "id"), 0, kMaxRequestId, id))
        frame.id = id;
    JsonNode* type = json_object_get_member(frame.object, "type");
    if (type == nullptr)
        return DecodeError{ErrorCode::InvalidMessage, frame.id, "type is required"};
    if (!JSON_NODE_HOLDS_VALUE(type) || json_node_get_value_type(type) != G_TYPE_STRING)
        return DecodeError{ErrorCode::InvalidMessage, frame.id, "type must be a string"};
    if (!json::stringValue(type, {0, 64}, frame.type))
        return DecodeError{ErrorCode::UnknownType, frame.id, "unknown message type (too long)"};
    if (nul) {
        // Checked before dispatch: json-glib cut the string at the \u0000, so even "type"
        // may read as another message's name.
        std::optional<RequestId> id = frame.id;
        if (nul->memberName || frame.type == kTypeName<Candidate>)
            id.reset();
        const bool inType = !nul->memberName && nul->path == "type";
        const std::string prefix = inType ? "" : frame.type;
        std::string where = prefix;
        if (!nul->path.empty())
            where += (where.empty() ? "" : ".") + nul->path;
        const std::string message =
            nul->memberName ? (where.empty() ? "a member name" : "a member name of " + where) +
                                  " contains \\u0000, which the protocol does not allow"
                            : where + " must not contain \\u0000";
        return DecodeError{ErrorCode::InvalidMessage, id, message};
    }
    return frame;
}

DecodeError unknownType(const Frame& frame) {
    return DecodeError{ErrorCode::UnknownType, frame.id,
                       "unknown message type \"" + frame.type + "\""};
}

} // namespace manifold::protocol::wire
