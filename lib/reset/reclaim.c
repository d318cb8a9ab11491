/*
 * Reclaim ordering (see hqio/reset.h): no memory changes hands while the
 * device could still write to it.
 */
#include "hqio/reset.h"

#include <errno.h>

static int set_bus_master(const struct hqio_host_ops *ops, struct hqio_bdf bdf, bool on)
{
	uint32_t cmd;
	int rc = ops->cfg_read(ops->ctx, bdf, HQIO_PCI_COMMAND, 2, &cmd);
	if (rc)
		return rc;
	cmd = on ? cmd | HQIO_PCI_COMMAND_MASTER : cmd & ~(uint32_t)HQIO_PCI_COMMAND_MASTER;
	return ops->cfg_write(ops->ctx, bdf, HQIO_PCI_COMMAND, 2, cmd);
}

int hqio_reclaim(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		 const struct hqio_reset_hooks *hooks, const struct hqio_reset_opts *opts,
		 const struct hqio_reclaim_ops *rops, struct hqio_reset_result *res,
		 struct hqio_error *err)
{
	if (rops && rops->stop_guest_access)
		rops->stop_guest_access(rops->arg, plan->bdf);
	int rc = hqio_reset_execute(ops, plan, hooks, opts, res, err);
	if (rc || res->quarantined) {
		/* The device may still write: its old memory stays where it is. */
		return rc ? rc
			  : hqio_error_set(err, -EIO, "%s: quarantined; memory kept mapped",
					   res->msg);
	}
	/* A device whose DMA engine can hold a transfer without reporting it
	 * (no trustworthy Transactions Pending) may issue it the moment Bus
	 * Master is set again, by whoever sets it next. Let it drain now,
	 * into the memory of the owner that programmed it. */
	if (plan->idle == HQIO_IDLE_WAIT || plan->idle == HQIO_IDLE_REGISTER) {
		if ((rc = set_bus_master(ops, plan->bdf, true)) ||
		    (rc = ops->sleep_ns(ops->ctx, plan->idle_wait_ns)) ||
		    (rc = set_bus_master(ops, plan->bdf, false)))
			return hqio_error_set(err, rc, "drain window failed (%d)", rc);
	}
	if (rops && rops->release_memory)
		rops->release_memory(rops->arg, plan->bdf);
	return 0;
}
