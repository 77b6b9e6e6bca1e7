// fentry_probe.cc: a feature probe that goes as far as attaching, because some kernels load
// fentry programs but refuse to attach them (no ftrace direct calls / trampolines).
#include "fentry_probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include "libbpf_log.h"

namespace socktop {

namespace {

// BTF id of the first of a few functions every kernel has; -1 when BTF is unavailable.
int CommonFunctionBtfId() {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return -1;
  int id = -1;
  for (const char* name : {"tcp_v4_connect", "do_unlinkat", "vfs_read"}) {
    id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC);
    if (id > 0) break;
  }
  btf__free(vmlinux);
  return id;
}

}  // namespace

bool ProbeFentry() {
  LogCapture quiet;  // a refusal is an answer here, not something to print
  int btf_id = CommonFunctionBtfId();
  if (btf_id <= 0) return false;
  // r0 = 0; exit
  struct bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[1].code = BPF_JMP | BPF_EXIT;
  struct bpf_prog_load_opts opts = {};
  opts.sz = sizeof opts;
  opts.expected_attach_type = BPF_TRACE_FENTRY;
  opts.attach_btf_id = btf_id;
  int prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "socktop_fentry", "GPL", insns, 2, &opts);
  if (prog < 0) return false;
  int link = bpf_link_create(prog, 0, BPF_TRACE_FENTRY, nullptr);
  close(prog);
  if (link < 0) return false;
  close(link);
  return true;
}

}  // namespace socktop
