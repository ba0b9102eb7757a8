#pragma once
// The contact between main and serial/ (the serial bridge is a role that
// sits on proc): implemented by serial/serial_bridge.cpp.

namespace ser {

class RoleTable;

// Registers the "serial bridge" role: one child per serial "DEV" { ... }
// block; its set-up step claims and binds every listen= of every block.
// Main, before Runtime::setup.
void register_serial_bridges(RoleTable& roles);

}  // namespace ser
