/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * memstate eBPF probe, Go runtime part: one uprobe program, attached by user space
 * (bpf/probe.c, ms_ebpf_go_attach) at the entry of each runtime sys* function a Go binary
 * keeps, with the attach cookie naming the function. Included by memstate.bpf.c: it
 * shares the ring buffer, the traced-process bitmap and the lost counters.
 *
 * Entry only, never a return probe: Go grows goroutine stacks by copying them, which a
 * uretprobe's rewritten return address does not survive. What a function returns
 * (sysAlloc's address) the tracer reads from the mmap that follows on the same thread.
 *
 * Go's ABIInternal passes integer arguments in registers: amd64 RAX, RBX, RCX, RDI, ...;
 * arm64 R0, R1, R2, R3. At the entry the return address is at [RSP] (amd64) or in the
 * link register (arm64); it tells the tracer whether the caller is the runtime's own
 * wrapper (sysUsed -> sysUsedOS: the same operation) or a site that inlined the wrapper.
 */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG0(r) ((r)->ax)
#define GO_ARG1(r) ((r)->bx)
#define GO_ARG2(r) ((r)->cx)
#define GO_ARG3(r) ((r)->di)
#elif defined(__TARGET_ARCH_arm64)
#define GO_ARG0(r) ((r)->regs[0])
#define GO_ARG1(r) ((r)->regs[1])
#define GO_ARG2(r) ((r)->regs[2])
#define GO_ARG3(r) ((r)->regs[3])
#endif

static __always_inline int go_entry(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ms_bpf_go *r;

	/* Other processes running the same binary hit the probe too: one load, gone. */
	if (!bit_test(traced_bits, tgid))
		return 0;
	r = rec_reserve(sizeof(*r), MS_BPF_REC_GO);
	if (!r)
		return 0;
	r->type = MS_BPF_REC_GO;
	r->fn = (__u32)bpf_get_attach_cookie(ctx);
	r->t_ns = bpf_ktime_get_ns();
	r->pid = tgid;
	r->tid = (__u32)id;
	r->ip = PT_REGS_IP(ctx);
#if defined(__TARGET_ARCH_x86)
	r->args[0] = GO_ARG0(ctx);
	r->args[1] = GO_ARG1(ctx);
	r->args[2] = GO_ARG2(ctx);
	r->args[3] = GO_ARG3(ctx);
	if (bpf_probe_read_user(&r->ret, sizeof(r->ret), (void *)ctx->sp))
		r->ret = 0;
#elif defined(__TARGET_ARCH_arm64)
	r->args[0] = GO_ARG0(ctx);
	r->args[1] = GO_ARG1(ctx);
	r->args[2] = GO_ARG2(ctx);
	r->args[3] = GO_ARG3(ctx);
	r->ret = ctx->regs[30];
#else
	r->args[0] = r->args[1] = r->args[2] = r->args[3] = 0;
	r->ret = 0;
#endif
	rec_submit(r, sizeof(*r), false);
	return 0;
}

/*
 * Two copies: one per uprobe perf event (any kernel with attach cookies), one for a
 * single uprobe_multi link over all the functions (6.6 and later; user space sets its
 * attach type). Only the multi link detaches in one RCU grace period: perf-event uprobes
 * wait for one each, which came to over a second after the program had ended.
 */
SEC("uprobe")
int ms_go_entry(struct pt_regs *ctx)
{
	return go_entry(ctx);
}

SEC("uprobe")
int ms_go_entry_multi(struct pt_regs *ctx)
{
	return go_entry(ctx);
}
