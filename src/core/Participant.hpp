// Participant.hpp — one member of a room: identity, grants, published tracks, subscriptions.
//
// What: the control plane's view of a participant. Its Listener (the signalling session)
// hears what happens in the room; the Room calls it, never the other way round except
// through Gateway/Room methods.
// Thread: control thread only.
// Ownership: owned by its Room (unique_ptr). Sessions hold a raw pointer between join and
// the moment they leave or are told onRemoved(); after that the pointer is dead.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/Types.hpp"

namespace manifold {

class Participant {
public:
    /// Implemented by the participant's signalling session. Control thread. A listener
    /// must not leave or remove participants from inside these callbacks.
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void onParticipantJoined(const ParticipantInfo& other) = 0;
        virtual void onParticipantLeft(const ParticipantInfo& other, LeaveReason reason) = 0;
        virtual void onTrackPublished(const TrackInfo& track) = 0;
        virtual void onTrackUnpublished(const TrackInfo& track) = 0;
        virtual void onTrackMuted(const TrackInfo& track) = 0;
        /// A published audio track started or stopped carrying speech (also told to its
        /// publisher).
        virtual void onSpeaking(const TrackInfo& track, bool speaking) = 0;
        /// The gateway removed this participant (kicked, room closed, shutdown). The
        /// Participant is already destroyed when this runs: drop the pointer and close.
        virtual void onRemoved(LeaveReason reason) = 0;
    };

    Participant(std::string id, std::string room, std::string identity, std::string name,
                std::string metadataJson, Grants grants, Listener& listener);
    Participant(const Participant&) = delete;
    Participant& operator=(const Participant&) = delete;

    const std::string& id() const { return id_; }
    const std::string& room() const { return room_; }
    const std::string& identity() const { return identity_; }
    const Grants& grants() const { return grants_; }
    Listener& listener() const { return listener_; }
    ParticipantInfo info() const;

    const std::vector<TrackInfo>& tracks() const { return tracks_; }
    TrackInfo* findTrack(const std::string& trackId);

    bool autoSubscribe() const { return autoSubscribe_; }
    void setAutoSubscribe(bool on) { autoSubscribe_ = on; }
    const std::set<std::string>& subscriptions() const { return subscriptions_; }
    bool isSubscribed(const std::string& trackId) const { return subscriptions_.count(trackId) != 0; }

private:
    friend class Room;
    std::string id_;
    std::string room_;
    std::string identity_;
    std::string name_;
    std::string metadataJson_;
    Grants grants_;
    Listener& listener_; // Passed by argument; outlives this.
    std::vector<TrackInfo> tracks_;       // published by this participant
    std::set<std::string> subscriptions_; // track ids received
    bool autoSubscribe_ = true;
};

} // namespace manifold
