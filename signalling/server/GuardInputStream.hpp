// GuardInputStream.hpp — the input stream libsoup reads a guarded connection through
// (server-private).
//
// What: a pollable GInputStream over the connection's own input (the socket's, or the TLS
// connection's plaintext). Every chunk read from it is shown to `inspect` before libsoup
// gets it (and the end of input to `endOfInput`); either may refuse, and the stream is
// then blocked: libsoup reads
// "no data yet" and its sources stay quiet, so the guard can answer on the connection
// itself. `fail` ends the stream for libsoup (its reads fail and the sources it waits on
// fire), so libsoup lets the connection go. Closing this stream (libsoup does when it is
// done with the connection) never closes the stream under it: it calls `closed`, always
// from an idle callback on the default main context, and the guard closes the socket.
// Thread: control thread. Ownership: a GObject (transfer full from guardInputStreamNew);
// libsoup holds it through the GIOStream handed to it, the guard holds a reference too.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <string_view>

namespace manifold::server {

struct GuardInputHooks {
    std::function<bool(std::string_view bytes)> inspect; // false: withhold `bytes`, block
    std::function<bool()> endOfInput;                    // the peer closed (or a read failed); false: withhold that, block
    std::function<void()> closed;                        // libsoup closed the stream
};

/// A new guard stream over `base` (which must be pollable).
GInputStream* guardInputStreamNew(GInputStream* base, GuardInputHooks hooks);
/// Blocks the stream, as when `inspect` refuses a chunk.
void guardInputStreamBlock(GInputStream* stream);
/// Ends the stream for its reader: reads fail with G_IO_ERROR_CONNECTION_CLOSED, and the
/// sources it waits on fire now.
void guardInputStreamFail(GInputStream* stream);
/// Forgets the hooks: their owner is going away.
void guardInputStreamDetach(GInputStream* stream);

} // namespace manifold::server
