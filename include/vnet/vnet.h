/* libvnet's public interface: what vnetctl, vnet-bench and the plugins that
 * embed vnet (CNI, Docker network driver, a multi-host agent) include, and
 * all they include of libvnet. It names fabrics, ports and their options in
 * domain terms; the pinned maps, the pins and the programs behind them stay
 * inside libvnet (userspace/maps, userspace/loader), so their layout can
 * change without touching a caller.
 *
 * Every operation runs in the calling thread's network namespace, takes the
 * control lock where it changes state (AcquireControlLock), and either
 * completes or leaves the kernel as it found it. Errors are absl::Status
 * values naming the step and the object ("port add vnp1: MAC ... in use").
 */
#ifndef VNET_VNET_H
#define VNET_VNET_H

#include "fabric/apply.h"        /* Apply, Plan, Execute: a configuration file made true */
#include "fabric/config_file.h"  /* DesiredState: the file, parsed and checked */
#include "fabric/container_net.h" /* a container's interface by netns path (CNI) */
#include "fabric/doctor.h"       /* checks of the running fabrics */
#include "fabric/fabric.h"       /* namespace-wide: down, show, stats, recovery */
#include "fabric/handle.h"       /* Fabric: one fabric opened, its operations as methods */
#include "fabric/gc.h"           /* dead fabrics */
#include "fabric/lock.h"         /* the control lock every changing command holds */
#include "fabric/plan.h"         /* apply's pure decision */
#include "fabric/port_options.h" /* one validation of a port's options, for every front end */
#include "fabric/types.h"        /* the domain vocabulary: options and descriptions */
#include "fabric/uplink_state.h" /* the monitor's view of uplinks */
#include "fabric/vxlan_settings.h" /* VXLAN fabrics: VNI, remotes, MTU rules */

#endif
