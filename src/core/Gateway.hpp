// Gateway.hpp — the top of the control plane: rooms by name, limits, room lifetime, ids.
//
// What: creates a room on the first allowed join, closes it after the last participant
// left plus a grace period, enforces the limits, kicks and closes on the admin's word,
// shuts everything down on SIGTERM, and tells observers (event notifier, metrics) what
// happened. Authorization is done before these calls, by the signalling layer.
// Thread: control thread only.
// Ownership: owned by the App; owns the Rooms. Borrows the Scheduler.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/Participant.hpp"
#include "core/Room.hpp"
#include "core/Scheduler.hpp"
#include "core/Result.hpp"
#include "core/Types.hpp"

namespace manifold {

struct Limits {
    std::size_t maxRooms = 100;
    std::size_t maxParticipantsPerRoom = 50;
    std::size_t maxTracksPerParticipant = 8;
    std::chrono::milliseconds roomEmptyTimeout{20000}; // grace before an empty room closes
};

/// Hears what happens in every room (event notifications, metrics). Control thread.
class GatewayObserver {
public:
    virtual ~GatewayObserver() = default;
    virtual void onRoomCreated(const std::string& room) = 0;
    /// `reason`: "empty" (the grace period after the last leave ran out), "closed" (an
    /// administrator closed it) or "shutdown".
    virtual void onRoomClosed(const std::string& room, const char* reason) = 0;
    virtual void onParticipantJoined(const std::string& room, const ParticipantInfo& p) = 0;
    virtual void onParticipantLeft(const std::string& room, const ParticipantInfo& p,
                                   LeaveReason reason) = 0;
    virtual void onTrackPublished(const std::string& room, const TrackInfo& track) = 0;
    virtual void onTrackUnpublished(const std::string& room, const TrackInfo& track) = 0;
};

class Gateway {
public:
    Gateway(Limits limits, Scheduler& scheduler);
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    void addObserver(GatewayObserver& observer);
    void removeObserver(GatewayObserver& observer);
    const Limits& limits() const { return limits_; }

    /// Joins `room` (created if needed). On success the participant is in the room and
    /// everyone else was told.
    Result<Participant*> join(const std::string& room, std::string identity,
                                             std::string name, std::string metadataJson,
                                             Grants grants, Participant::Listener& listener);
    /// The participant leaves on its own (leave message, socket closed). Its listener is
    /// not called. `participant` is dead afterwards.
    void leave(Participant& participant, LeaveReason reason);
    /// Removes a participant on the server's word; its listener hears onRemoved(Kicked).
    bool kick(const std::string& room, const std::string& participantId);
    /// Removes everyone (onRemoved(RoomClosed)) and closes the room.
    bool closeRoom(const std::string& room);
    /// Removes everyone (onRemoved(Shutdown)); later joins are refused.
    void shutdown();
    bool shuttingDown() const { return shuttingDown_; }

    /// `beforeAnnounce`: see Room::publish.
    Result<TrackInfo> publish(Participant& owner, MediaKind kind, std::string label,
                                             const std::function<void(const TrackInfo&)>& beforeAnnounce = {});
    Result<TrackInfo> unpublish(Participant& owner, const std::string& trackId);
    Result<TrackInfo> setMuted(Participant& owner, const std::string& trackId,
                                              bool muted);

    void setSpeaking(Participant& owner, const std::string& trackId, bool speaking);

    Room* findRoom(const std::string& room) const;
    std::vector<RoomInfo> rooms() const;
    std::size_t roomCount() const { return rooms_.size(); }
    std::size_t participantCount() const;

private:
    struct RoomEntry {
        std::unique_ptr<Room> room;
        Scheduler::Timer emptyTimer; // armed while the room is empty
    };
    void removeAndTell(Room& room, const std::string& participantId, LeaveReason reason);
    void roomBecameEmpty(const std::string& name);
    void eraseRoom(const std::string& name, const char* reason);
    std::string nextId(char prefix);

    Limits limits_;
    Scheduler& scheduler_;                   // Passed by argument.
    std::map<std::string, RoomEntry> rooms_; // Allocated by this.
    std::vector<GatewayObserver*> observers_; // Passed by argument; they unregister first.
    std::uint64_t nextId_ = 1;
    bool shuttingDown_ = false;
};

} // namespace manifold
