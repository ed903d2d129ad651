// Result.hpp — the one way the control and media planes report a failure to their caller.
//
// What: a Failure is a typed code (Refusal) and, where the callee knows more than the
// code says, a detail for humans ("the answer has 3 m-lines, the offer 2"). Operations
// that produce a value return Result<T> (the value or a Failure); operations that only
// succeed or fail return Status (nullopt = done). The signalling session turns a
// Failure into a protocol error (code, reason, message) at one place
// (Session::failWith). Exceptions are for construction only (a missing GStreamer
// plugin, a bad configuration), never for a request.
// Thread: value types. Ownership: by value.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "core/Types.hpp"

namespace manifold {

struct Failure {
    Failure(Refusal code, std::string detail = {}) : code(code), detail(std::move(detail)) {} // NOLINT: implicit on purpose
    Refusal code;
    std::string detail;
    bool operator==(const Failure&) const = default;
};

template <typename T>
using Result = std::variant<T, Failure>;

/// nullopt: it worked.
using Status = std::optional<Failure>;

} // namespace manifold
