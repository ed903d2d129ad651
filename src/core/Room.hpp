// Room.hpp — the routing authority of one room: who is in it, which tracks exist, who
// receives what.
//
// What: participants in join order, their tracks and subscriptions; tells every other
// participant's Listener about joins, leaves and track changes. Limits and room
// lifetime are the Gateway's business.
// Thread: control thread only.
// Ownership: owned by the Gateway (unique_ptr); owns its Participants.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/Participant.hpp"
#include "core/Result.hpp"
#include "core/Types.hpp"

namespace manifold {

class Room {
public:
    explicit Room(std::string name);
    Room(const Room&) = delete;
    Room& operator=(const Room&) = delete;

    const std::string& name() const { return name_; }
    std::size_t size() const { return participants_.size(); }
    bool empty() const { return participants_.empty(); }
    Participant* find(const std::string& participantId) const;
    std::vector<Participant*> participants() const;
    RoomInfo info() const;
    /// Everyone but `self`, with their tracks (what a new joiner is told).
    std::vector<ParticipantInfo> othersThan(const Participant& self) const;

    /// Adds and tells everyone else.
    Participant& add(std::unique_ptr<Participant> participant);
    /// Unpublishes its tracks, removes it and tells everyone else. Returns it (so the
    /// caller controls when it dies), or null when unknown.
    std::unique_ptr<Participant> remove(const std::string& participantId, LeaveReason reason);

    /// `beforeAnnounce` runs after the track exists and before anyone else hears of it
    /// (the publisher's media session prepares to receive it there).
    Result<TrackInfo> publish(Participant& owner, std::string trackId,
                                             MediaKind kind, std::string label,
                                             std::size_t maxTracks,
                                             const std::function<void(const TrackInfo&)>& beforeAnnounce = {});
    Result<TrackInfo> unpublish(Participant& owner, const std::string& trackId);
    Result<TrackInfo> setMuted(Participant& owner, const std::string& trackId,
                                              bool muted);
    /// Tells everyone, the publisher included.
    void setSpeaking(Participant& owner, const std::string& trackId, bool speaking);

    /// The track and its publisher, or {nullptr, nullptr}.
    std::pair<const TrackInfo*, Participant*> findTrack(const std::string& trackId) const;
    Status subscribe(Participant& subscriber, const std::string& trackId);
    Status unsubscribe(Participant& subscriber, const std::string& trackId);

private:
    /// Calls `fn(listener)` for every participant but `except`. Iterates over a snapshot
    /// of ids so a listener that closes its own connection cannot invalidate the loop.
    template <typename Fn>
    void tellOthers(const std::string& except, Fn&& fn);

    std::string name_;
    std::vector<std::unique_ptr<Participant>> participants_; // Allocated by this; join order.
};

} // namespace manifold
