#include "core/Gateway.hpp"

#include <algorithm>

#include "core/Log.hpp"

namespace manifold {

Gateway::Gateway(Limits limits, Scheduler& scheduler) : limits_(limits), scheduler_(scheduler) {}

Gateway::~Gateway() = default;

void Gateway::addObserver(GatewayObserver& observer) { observers_.push_back(&observer); }

void Gateway::removeObserver(GatewayObserver& observer) {
    observers_.erase(std::remove(observers_.begin(), observers_.end(), &observer), observers_.end());
}

std::string Gateway::nextId(char prefix) {
    // Short, unique for the life of the process. Unguessability is not needed: every
    // action is authorized by identity and grants, not by knowing an id.
    static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::uint64_t n = nextId_++;
    std::string out;
    do {
        out.insert(out.begin(), digits[n % 36]);
        n /= 36;
    } while (n);
    return std::string(1, prefix) + out;
}

Result<Participant*> Gateway::join(const std::string& roomName, std::string identity,
                                                  std::string name, std::string metadataJson,
                                                  Grants grants, Participant::Listener& listener) {
    if (shuttingDown_) return Refusal::ShuttingDown;
    auto it = rooms_.find(roomName);
    if (it == rooms_.end()) {
        if (rooms_.size() >= limits_.maxRooms) {
            MLOG_P(Core, Info, roomName, "", "refused: %zu rooms open (max-rooms)", rooms_.size());
            return Refusal::TooManyRooms;
        }
        it = rooms_.emplace(roomName, RoomEntry{std::make_unique<Room>(roomName), nullptr}).first;
        MLOG_P(Core, Info, roomName, "", "room created");
        for (auto* o : observers_) o->onRoomCreated(roomName);
    }
    RoomEntry& entry = it->second;
    if (entry.room->size() >= limits_.maxParticipantsPerRoom) {
        MLOG_P(Core, Info, roomName, "", "refused: room full (%zu)", entry.room->size());
        return Refusal::RoomFull;
    }
    entry.emptyTimer.reset();
    auto participant = std::make_unique<Participant>(nextId('P'), roomName, std::move(identity),
                                                     std::move(name), std::move(metadataJson),
                                                     grants, listener);
    Participant& added = entry.room->add(std::move(participant));
    const ParticipantInfo info = added.info();
    for (auto* o : observers_) o->onParticipantJoined(roomName, info);
    return &added;
}

void Gateway::removeAndTell(Room& room, const std::string& participantId, LeaveReason reason) {
    std::unique_ptr<Participant> gone = room.remove(participantId, reason);
    if (!gone) return;
    const ParticipantInfo info = gone->info();
    for (const TrackInfo& track : info.tracks)
        for (auto* o : observers_) o->onTrackUnpublished(room.name(), track);
    for (auto* o : observers_) o->onParticipantLeft(room.name(), info, reason);
}

void Gateway::leave(Participant& participant, LeaveReason reason) {
    const std::string roomName = participant.room();
    Room* room = findRoom(roomName);
    if (!room) return;
    removeAndTell(*room, participant.id(), reason);
    if (room->empty()) roomBecameEmpty(roomName);
}

bool Gateway::kick(const std::string& roomName, const std::string& participantId) {
    Room* room = findRoom(roomName);
    Participant* p = room ? room->find(participantId) : nullptr;
    if (!p) return false;
    Participant::Listener& listener = p->listener();
    removeAndTell(*room, participantId, LeaveReason::Kicked);
    listener.onRemoved(LeaveReason::Kicked);
    if (room->empty()) roomBecameEmpty(roomName);
    return true;
}

bool Gateway::closeRoom(const std::string& roomName) {
    Room* room = findRoom(roomName);
    if (!room) return false;
    MLOG_P(Core, Info, roomName, "", "closing room (%zu participants)", room->size());
    // Last joined leaves first, so nobody hears about a participant after it was told to go.
    while (!room->empty()) {
        Participant* p = room->participants().back();
        Participant::Listener& listener = p->listener();
        removeAndTell(*room, p->id(), LeaveReason::RoomClosed);
        listener.onRemoved(LeaveReason::RoomClosed);
    }
    eraseRoom(roomName, "closed");
    return true;
}

void Gateway::shutdown() {
    if (shuttingDown_) return;
    shuttingDown_ = true;
    MLOG(Core, Info, "shutting down: %zu rooms, %zu participants", rooms_.size(), participantCount());
    while (!rooms_.empty()) {
        const std::string name = rooms_.begin()->first;
        Room& room = *rooms_.begin()->second.room;
        while (!room.empty()) {
            Participant* p = room.participants().back();
            Participant::Listener& listener = p->listener();
            removeAndTell(room, p->id(), LeaveReason::Shutdown);
            listener.onRemoved(LeaveReason::Shutdown);
        }
        eraseRoom(name, "shutdown");
    }
}

void Gateway::roomBecameEmpty(const std::string& name) {
    auto it = rooms_.find(name);
    if (it == rooms_.end()) return;
    if (limits_.roomEmptyTimeout.count() <= 0 || shuttingDown_) {
        eraseRoom(name, shuttingDown_ ? "shutdown" : "empty");
        return;
    }
    MLOG_P(Core, Debug, name, "", "empty; closing in %lld ms unless someone joins",
           static_cast<long long>(limits_.roomEmptyTimeout.count()));
    it->second.emptyTimer = scheduler_.after(limits_.roomEmptyTimeout, [this, name] {
        auto found = rooms_.find(name);
        if (found != rooms_.end() && found->second.room->empty()) eraseRoom(name, "empty");
    });
}

void Gateway::eraseRoom(const std::string& name, const char* reason) {
    auto it = rooms_.find(name);
    if (it == rooms_.end()) return;
    // Move the entry out first: its timer may be the one running this very code.
    RoomEntry entry = std::move(it->second);
    rooms_.erase(it);
    MLOG_P(Core, Info, name, "", "room closed (%s)", reason);
    for (auto* o : observers_) o->onRoomClosed(name, reason);
}

Result<TrackInfo> Gateway::publish(Participant& owner, MediaKind kind, std::string label,
                                                  const std::function<void(const TrackInfo&)>& beforeAnnounce) {
    Room* room = findRoom(owner.room());
    if (!room) return Refusal::UnknownParticipant;
    auto result = room->publish(owner, nextId('T'), kind, std::move(label), limits_.maxTracksPerParticipant,
                                beforeAnnounce);
    if (auto* track = std::get_if<TrackInfo>(&result))
        for (auto* o : observers_) o->onTrackPublished(room->name(), *track);
    return result;
}

Result<TrackInfo> Gateway::unpublish(Participant& owner, const std::string& trackId) {
    Room* room = findRoom(owner.room());
    if (!room) return Refusal::UnknownParticipant;
    auto result = room->unpublish(owner, trackId);
    if (auto* track = std::get_if<TrackInfo>(&result))
        for (auto* o : observers_) o->onTrackUnpublished(room->name(), *track);
    return result;
}

Result<TrackInfo> Gateway::setMuted(Participant& owner, const std::string& trackId,
                                                   bool muted) {
    Room* room = findRoom(owner.room());
    if (!room) return Refusal::UnknownParticipant;
    return room->setMuted(owner, trackId, muted);
}

void Gateway::setSpeaking(Participant& owner, const std::string& trackId, bool speaking) {
    if (Room* room = findRoom(owner.room())) room->setSpeaking(owner, trackId, speaking);
}

Room* Gateway::findRoom(const std::string& room) const {
    auto it = rooms_.find(room);
    return it == rooms_.end() ? nullptr : it->second.room.get();
}

std::vector<RoomInfo> Gateway::rooms() const {
    std::vector<RoomInfo> out;
    out.reserve(rooms_.size());
    for (const auto& [name, entry] : rooms_) out.push_back(entry.room->info());
    return out;
}

std::size_t Gateway::participantCount() const {
    std::size_t n = 0;
    for (const auto& [name, entry] : rooms_) n += entry.room->size();
    return n;
}

} // namespace manifold
