// Rollback for multi-step operations: each step that changes the kernel pushes
// its inverse; unless Commit() is called, the inverses run in reverse order.
// This is how a failed command leaves the system as it found it.
#ifndef VNET_FABRIC_UNDO_H
#define VNET_FABRIC_UNDO_H

#include <functional>
#include <utility>
#include <vector>

namespace vnet {

class Undo {
 public:
  Undo() = default;
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }
  void Push(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void Commit() { steps_.clear(); }

 private:
  std::vector<std::function<void()>> steps_;
};

}  // namespace vnet

#endif
