/* Device rules on cgroup v2: there is no devices.allow, the kernel asks a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup instead. The
 * program is generated here, one block per rule. */
#include "runtime/cgroup/cgroup_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Registers: r1 the context (struct bpf_cgroup_dev_ctx), r2 the device
 * type, r3 the requested access, r4 major, r5 minor, r6 the requested
 * access bits no rule has allowed yet, r7 scratch. */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

#define LDX_W(dst, off)    insn(BPF_LDX | BPF_W | BPF_MEM, dst, 1, off, 0)
#define ALU32_K(op, d, k)  insn(BPF_ALU | (op) | BPF_K, d, 0, 0, k)
#define ALU64_K(op, d, k)  insn(BPF_ALU64 | (op) | BPF_K, d, 0, 0, k)
#define MOV64_X(d, s)      insn(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define JMP_K(op, d, k, o) insn(BPF_JMP | (op) | BPF_K, d, 0, o, k)
#define EXIT()             insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int32_t access_bits(const char *access)
{
    int32_t bits = 0;
    bits |= strchr(access, 'm') ? BPF_DEVCG_ACC_MKNOD : 0;
    bits |= strchr(access, 'r') ? BPF_DEVCG_ACC_READ : 0;
    bits |= strchr(access, 'w') ? BPF_DEVCG_ACC_WRITE : 0;
    return bits;
}

static size_t block_len(const struct cell_device_rule *d)
{
    return (d->type != 'a') + (d->major >= 0) + (d->minor >= 0) + 3 + (d->allow ? 4 : 2);
}

/* One rule: when it names the device and some of the undecided access,
 * a deny answers no; an allow takes its bits off, and answers yes once
 * nothing is left. Otherwise on to the next block. */
static void emit_block(struct bpf_insn *p, const struct cell_device_rule *d)
{
    size_t len = block_len(d), i = 0;
#define SKIP ((int16_t)(len - i - 1))
    if (d->type != 'a') {
        p[i] = JMP_K(BPF_JNE, 2, d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, SKIP);
        i++;
    }
    if (d->major >= 0) {
        p[i] = JMP_K(BPF_JNE, 4, (int32_t)d->major, SKIP);
        i++;
    }
    if (d->minor >= 0) {
        p[i] = JMP_K(BPF_JNE, 5, (int32_t)d->minor, SKIP);
        i++;
    }
    int32_t bits = access_bits(d->access);
    p[i++] = MOV64_X(7, 6);
    p[i++] = ALU64_K(BPF_AND, 7, bits);
    p[i] = JMP_K(BPF_JEQ, 7, 0, SKIP);
    i++;
    if (d->allow) {
        p[i++] = ALU64_K(BPF_AND, 6, ~bits);
        p[i] = JMP_K(BPF_JNE, 6, 0, SKIP);
        i++;
        p[i++] = ALU64_K(BPF_MOV, 0, 1);
    } else {
        p[i++] = ALU64_K(BPF_MOV, 0, 0);
    }
    p[i++] = EXIT();
#undef SKIP
}

/* The rules apply in order and a later one overrides an earlier one, so
 * the program asks them last to first: for each access bit the first rule
 * met that mentions it decides. Nothing decided means deny. */
int cell_cgroup_bpf_program(const struct cell_device_rule *rules, size_t n, struct bpf_insn **out,
                            size_t *n_insns)
{
    size_t total = 7 + 2;
    for (size_t i = 0; i < n; i++)
        total += block_len(&rules[i]);
    struct bpf_insn *p = calloc(total, sizeof *p);
    if (!p)
        return -ENOMEM;
    size_t k = 0;
    p[k++] = LDX_W(2, 0); /* access_type: (access << 16) | type */
    p[k++] = MOV64_X(3, 2);
    p[k++] = ALU32_K(BPF_AND, 2, 0xffff);
    p[k++] = ALU32_K(BPF_RSH, 3, 16);
    p[k++] = LDX_W(4, 4); /* major */
    p[k++] = LDX_W(5, 8); /* minor */
    p[k++] = MOV64_X(6, 3);
    for (size_t i = n; i-- > 0;) {
        emit_block(p + k, &rules[i]);
        k += block_len(&rules[i]);
    }
    p[k++] = ALU64_K(BPF_MOV, 0, 0);
    p[k++] = EXIT();
    *out = p;
    *n_insns = k;
    return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int load_program(const struct cell_device_rule *rules, size_t n, cell_err_t *err)
{
    _cleanup_free_ struct bpf_insn *insns = NULL;
    size_t count = 0;
    if (cell_cgroup_bpf_program(rules, n, &insns, &count) < 0)
        return cell_error(err, ENOMEM, CG_FIELD("devices"));
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)count;
    attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
    int fd = bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0)
        return cell_error(err, errno, CG_FIELD("devices") ": load the device filter (%zu rules)",
                          n);
    return fd;
}

/* The ids of the programs attached to the cgroup itself (not inherited). */
static int attached_ids(int dirfd, uint32_t *ids, uint32_t *n)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)dirfd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = *n;
    if (bpf(BPF_PROG_QUERY, &attr) < 0)
        return -errno;
    *n = attr.query.prog_cnt;
    return 0;
}

static int detach_id(int dirfd, uint32_t id)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    _cleanup_close_ int fd = bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0)
        return -errno;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)dirfd;
    attr.attach_bpf_fd = (uint32_t)fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    return bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT ? -errno : 0;
}

/* The new program goes in before the old ones come out (with
 * BPF_F_ALLOW_MULTI all attached programs must agree), so there is no
 * moment without rules. */
int cell_cgroup_bpf_devices(const char *dir, const struct cell_device_rule *rules, size_t n,
                            cell_err_t *err)
{
    _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cell_error(err, errno, "open %s", dir);
    uint32_t old[64], n_old = ARRAY_SIZE(old);
    if (attached_ids(dirfd, old, &n_old) < 0)
        n_old = 0;
    _cleanup_close_ int prog = load_program(rules, n, err);
    if (prog < 0)
        return prog;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)dirfd;
    attr.attach_bpf_fd = (uint32_t)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &attr) < 0)
        return cell_error(err, errno, CG_FIELD("devices") ": attach the device filter to %s", dir);
    for (uint32_t i = 0; i < n_old && i < ARRAY_SIZE(old); i++) {
        int r = detach_id(dirfd, old[i]);
        if (r < 0)
            return cell_error(err, -r, CG_FIELD("devices") ": detach the old device filter of %s",
                              dir);
    }
    return 0;
}
