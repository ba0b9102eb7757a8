#pragma once
// The contact between main and ctl/ (the control role sits on proc):
// implemented by ctl/ctl_role.cpp.

namespace ser {

class RoleTable;

// Registers the "control" role: one child serving JSON-RPC on ctl_socket and
// the Prometheus text on metrics_listen; none when both are off. Its set-up
// step makes the sockets. Main, before Runtime::setup.
void register_control_role(RoleTable& roles);

}  // namespace ser
