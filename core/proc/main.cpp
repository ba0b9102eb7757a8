// ser — entry point: parse the command line, load and check the configuration,
// then (unless -c) start the server.
#include "cfg/cfg_check.h"
#include "cfg/default_cfg.h"
#include "io/tls_hooks.h"
#include "proc/children.h"
#include "proc/ctl_hook.h"
#include "proc/serial_hook.h"
#include "proc/options.h"
#include "proc/privileges.h"
#include "proc/proc_title.h"
#include "proc/server.h"

#include <cstdio>
#include <iostream>

namespace {

void print_diags(const std::vector<ser::cfg::Diag>& diags, bool quiet_notices)
{
    for (const auto& d : diags) {
        if (quiet_notices && d.level == ser::cfg::Diag::Level::Notice)
            continue;
        std::cerr << d.str() << '\n';
    }
}

// The roles of the children, in the order they are set up and forked; then run.
int start(const ser::Config& cfg, const ser::Options& opt)
{
    ser::RoleTable roles;
    ser::register_udp_receivers(roles);
    ser::register_tcp_workers(roles);
    ser::register_serial_bridges(roles);
    ser::register_control_role(roles);
    return ser::run_server(cfg, opt, roles);
}

// ser --ser2sock ...: ser2sock's command line and conf file, then the same start.
int run_ser2sock(int n, char** args)
{
    ser::Ser2sockLaunch l = ser::ser2sock_launch(n, args);
    if (l.exit_code >= 0) {
        (l.exit_code == 0 ? std::cout : std::cerr) << l.message;
        return l.exit_code;
    }
    print_diags(l.res.diags, l.quiet_notices);
    if (!l.res.ok()) {
        std::cerr << "ser: the ser2sock settings have errors\n";
        return 1;
    }
    return start(l.res.config, l.opt);
}

}  // namespace

int main(int argc, char** argv)
{
    ser::proc_title_init(argc, argv);
    std::string err;
    auto opt = ser::parse_options(argc, argv, err);
    if (!opt) {
        std::cerr << "ser: " << err << "\n" << ser::usage_text(argv[0]);
        return 2;
    }
    if (opt->ser2sock)
        return run_ser2sock(argc - opt->ser2sock_argi, argv + opt->ser2sock_argi);
    if (opt->help) {
        std::cout << ser::usage_text(argv[0]);
        return 0;
    }
    if (opt->version) {
        std::cout << "ser " << SER_VERSION << " (" << (ser::cfg::tls_compiled_in() ? "TLS" : "no TLS")
                  << ", C++20)\n";
        if (std::string v = ser::tls_library_versions(); !v.empty())
            std::cout << v << '\n';
        return 0;
    }
    ser::cfg::CheckResult res = opt->cfg_file.empty()
                                    ? ser::cfg::load_config_text(ser::default_cfg_text(), ser::default_cfg_name())
                                    : ser::cfg::load_config(opt->cfg_file);
    if (res.ok()) {
        auto more = ser::check_readable_after_drop(res.config, opt->user.empty() ? res.config.user : opt->user,
                                                   opt->group.empty() ? res.config.group : opt->group);
        res.diags.insert(res.diags.end(), more.begin(), more.end());
    }
    print_diags(res.diags, !opt->check_only && opt->debug_bump == 0);
    if (!res.ok()) {
        std::cerr << "ser: configuration has errors\n";
        return 1;
    }
    if (opt->check_only) {
        std::cerr << "ser: " << (opt->cfg_file.empty() ? ser::default_cfg_name() : opt->cfg_file)
                  << ": configuration OK\n";
        return 0;
    }
    return start(res.config, *opt);
}
