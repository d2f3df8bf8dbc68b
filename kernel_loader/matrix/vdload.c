/*
 * vdload: /init of the throw-away initramfs that kernel_loader.matrix boots under QEMU.
 *
 * It reads /batch (format: kernel_loader/matrix/batch.py), creates each program's maps, loads the
 * program's own BTF when it carries one (its fd, func_info and line_info go to BPF_PROG_LOAD, as
 * kernel_loader/loader.py sends them), loads the
 * program with BPF_PROG_LOAD at the requested log level (growing the log buffer on ENOSPC), as many
 * times as the batch's repeat count asks (closing each fd; the log of the first load is kept, of the
 * others only their `verification time`), and writes one framed record per program (format:
 * kernel_loader/matrix/output.py) into the shared memory BAR of an ivshmem-plain PCI device, which
 * QEMU backs with a host file. Then it powers off.
 *
 * Static, no libbpf: the raw bpf() syscall with the same bpf_attr offsets kernel_loader/syscall.py uses.
 * Everything it cannot do becomes a record (or, before the output exists, a line on the console).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define BPF_MAP_CREATE 0
#define BPF_MAP_UPDATE_ELEM 2
#define BPF_PROG_LOAD 5
#define BPF_OBJ_GET_INFO_BY_FD 15
#define BPF_BTF_LOAD 18
#define BPF_MAP_FREEZE 22
#define ATTR_SIZE 160
#define PROG_INFO_SIZE 232 /* struct bpf_prog_info up to attach_btf_id (6.0+), as kernel_loader/info.py */
#define BTF_LOG_SIZE (1u << 16)

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110

/* record kinds, shared with output.py */
#define REC_HELLO 1
#define REC_RESULT 2
#define REC_DONE 3
#define REC_FULL 4
#define REC_FATAL 5
#define REC_TIMED_RESULT 6 /* a result with every repetition's return value and verification time */

/* result status, shared with output.py */
#define ST_LOADED 0      /* BPF_PROG_LOAD was called: ret is the fd or -errno */
#define ST_MAP_FAIL 1    /* map #detail could not be created, initialised or frozen: ret is -errno */
#define ST_NO_MEMORY 2   /* no log buffer of `detail` bytes could be allocated */
#define ST_MAP_BTF_FAIL 3 /* the BTF of map #detail was refused: ret is -errno, the log is the BTF log */
#define ST_BAD_MAP_REF 4 /* insn #detail refers to a map the program does not have */
#define ST_PROG_BTF_FAIL 5 /* the program's own BTF was refused: ret is -errno, the log is the BTF log */

#define MAX_REPEAT 100000 /* what batch.py accepts */

#define MAX_LOG_SIZE (1u << 28) /* the guest's memory bounds the log buffer: 256 MiB */
/* A log buffer is only address space until the kernel writes into it, so the first load gets the
 * largest: a log that does not fit costs a whole verification again (several on 6.1, which does not
 * say how large the log is, so the buffer doubles). FALLBACK_LOG_SIZE when that cannot be allocated. */
#define INITIAL_LOG_SIZE MAX_LOG_SIZE
#define FALLBACK_LOG_SIZE (1u << 20)

static uint8_t *out_base;
static size_t out_size, out_pos;

static void die_console(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vdload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fflush(stderr);
	reboot(RB_POWER_OFF);
	_exit(1);
}

static long sys_bpf(int cmd, void *attr)
{
	return syscall(__NR_bpf, cmd, attr, ATTR_SIZE);
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A record: "VDR" kind, u32 payload length, payload, "VDE" kind. The leading magic is written last,
 * so a record cut short by a crash never looks complete. Returns 0, or -1 when the region is full. */
#define CONTROL_RESERVE 64 /* room kept for the FULL and DONE records */
static int emit(uint8_t kind, const void *head, size_t head_len, const void *tail, size_t tail_len)
{
	size_t len = head_len + tail_len, need = 8 + len + 4;
	size_t reserve = (kind == REC_FULL || kind == REC_DONE || kind == REC_FATAL) ? 0 : CONTROL_RESERVE;
	if (out_pos + need + reserve > out_size)
		return -1;
	uint8_t *p = out_base + out_pos;
	put_u32(p + 4, (uint32_t)len);
	if (head_len)
		memcpy(p + 8, head, head_len);
	if (tail_len)
		memcpy(p + 8 + head_len, tail, tail_len);
	memcpy(p + 8 + len, "VDE", 3);
	p[8 + len + 3] = kind;
	__sync_synchronize();
	memcpy(p, "VDR", 3);
	p[3] = kind;
	__sync_synchronize();
	out_pos += need;
	return 0;
}

static void emit_fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vdload: %s\n", msg);
	if (out_base)
		emit(REC_FATAL, msg, strlen(msg), NULL, 0);
	reboot(RB_POWER_OFF);
	_exit(1);
}

static int read_text(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return 0;
}

/* Find the ivshmem device in sysfs, enable it and map its shared-memory BAR (resource2). */
static void map_output(void)
{
	const char *base = "/sys/bus/pci/devices";
	DIR *d = opendir(base);
	if (!d)
		die_console("cannot list %s: %s", base, strerror(errno));
	struct dirent *e;
	char path[512], buf[64];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", base, e->d_name);
		if (read_text(path, buf, sizeof(buf)) || strtoul(buf, NULL, 16) != IVSHMEM_VENDOR)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device", base, e->d_name);
		if (read_text(path, buf, sizeof(buf)) || strtoul(buf, NULL, 16) != IVSHMEM_DEVICE)
			continue;
		snprintf(path, sizeof(path), "%s/%s/enable", base, e->d_name);
		int fd = open(path, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "1", 1) < 0) { /* already enabled is fine */
			}
			close(fd);
		}
		snprintf(path, sizeof(path), "%s/%s/resource2", base, e->d_name);
		fd = open(path, O_RDWR | O_SYNC);
		if (fd < 0)
			die_console("cannot open %s: %s", path, strerror(errno));
		struct stat st;
		if (fstat(fd, &st) || st.st_size <= 0)
			die_console("%s has no size", path);
		void *m = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			die_console("cannot map %s: %s", path, strerror(errno));
		close(fd);
		out_base = m;
		out_size = st.st_size;
		out_pos = 0;
		closedir(d);
		return;
	}
	closedir(d);
	die_console("no ivshmem device (%04x:%04x) on the PCI bus", IVSHMEM_VENDOR, IVSHMEM_DEVICE);
}

/* ---- reading the batch ---- */
static const uint8_t *in, *in_end;

static void need(size_t n, const char *what)
{
	if ((size_t)(in_end - in) < n)
		emit_fatal("batch truncated while reading %s", what);
}
static uint32_t get_u32(const char *what)
{
	uint32_t v;
	need(4, what);
	memcpy(&v, in, 4);
	in += 4;
	return v;
}
static uint16_t get_u16(const char *what)
{
	uint16_t v;
	need(2, what);
	memcpy(&v, in, 2);
	in += 2;
	return v;
}
static const uint8_t *get_bytes(size_t n, const char *what)
{
	need(n, what);
	const uint8_t *p = in;
	in += n;
	return p;
}

struct map_spec {
	uint32_t type, key_size, value_size, max_entries, flags;
	uint32_t init_len; /* ABSENT when there is none */
	const uint8_t *init;
	uint32_t btf_len; /* ABSENT when there is none */
	const uint8_t *btf;
	uint32_t btf_key_type_id, btf_value_type_id;
	uint8_t frozen;
	char name[16];
	struct map_spec *inner;
};
#define ABSENT 0xffffffffu

static void read_map(struct map_spec *m)
{
	memset(m, 0, sizeof(*m));
	m->type = get_u32("map type");
	m->key_size = get_u32("map key_size");
	m->value_size = get_u32("map value_size");
	m->max_entries = get_u32("map max_entries");
	m->flags = get_u32("map flags");
	m->init_len = get_u32("map init length");
	m->btf_len = get_u32("map btf length");
	m->btf_key_type_id = get_u32("map btf_key_type_id");
	m->btf_value_type_id = get_u32("map btf_value_type_id");
	m->frozen = *get_bytes(1, "map frozen");
	uint8_t has_inner = *get_bytes(1, "map inner flag");
	uint16_t nlen = get_u16("map name length");
	const uint8_t *name = get_bytes(nlen, "map name");
	memcpy(m->name, name, nlen < 15 ? nlen : 15);
	if (m->init_len != ABSENT)
		m->init = get_bytes(m->init_len, "map init");
	if (m->btf_len != ABSENT)
		m->btf = get_bytes(m->btf_len, "map btf");
	if (has_inner) {
		m->inner = calloc(1, sizeof(*m->inner));
		read_map(m->inner);
	}
}

static void free_map(struct map_spec *m)
{
	if (m->inner) {
		free_map(m->inner);
		free(m->inner);
	}
}

/* ---- bpf() ---- */
static int create_map(const struct map_spec *m, int inner_fd, int btf_fd)
{
	uint8_t attr[ATTR_SIZE] = {0};
	put_u32(attr + 0, m->type);
	put_u32(attr + 4, m->key_size);
	put_u32(attr + 8, m->value_size);
	put_u32(attr + 12, m->max_entries);
	put_u32(attr + 16, m->flags);
	put_u32(attr + 20, (uint32_t)inner_fd);
	memcpy(attr + 28, m->name, strlen(m->name));
	if (btf_fd > 0) {
		put_u32(attr + 48, (uint32_t)btf_fd);
		put_u32(attr + 52, m->btf_key_type_id);
		put_u32(attr + 56, m->btf_value_type_id);
	}
	return (int)sys_bpf(BPF_MAP_CREATE, attr);
}

/* BTF blobs of one program's maps: loaded once per distinct blob, as kernel_loader/maps.py does. */
struct btf_cache {
	const uint8_t *blob[64];
	uint32_t len[64];
	int fd[64];
	int n;
};

static char btf_log[BTF_LOG_SIZE];

/* BPF_BTF_LOAD of a blob: its fd, or -1 with errno set and btf_log holding the kernel's reason
 * (a refusal is asked again with a log, as kernel_loader/btf.py load_btf does). */
static int load_btf_blob(const uint8_t *blob, uint32_t len)
{
	uint8_t attr[ATTR_SIZE] = {0};
	put_u64(attr + 0, (uintptr_t)blob);
	put_u32(attr + 16, len);
	btf_log[0] = 0;
	int fd = (int)sys_bpf(BPF_BTF_LOAD, attr);
	if (fd >= 0)
		return fd;
	int err = errno;
	if (err == EINVAL || err == E2BIG || err == EACCES) { /* the BTF checker said no: ask it why */
		memset(attr, 0, sizeof(attr));
		put_u64(attr + 0, (uintptr_t)blob);
		put_u64(attr + 8, (uintptr_t)btf_log);
		put_u32(attr + 16, len);
		put_u32(attr + 20, BTF_LOG_SIZE);
		put_u32(attr + 24, 1);
		fd = (int)sys_bpf(BPF_BTF_LOAD, attr);
		if (fd >= 0)
			return fd; /* accepted the second time: use it */
		err = errno;
	}
	btf_log[BTF_LOG_SIZE - 1] = 0;
	errno = err;
	return -1;
}

/* The fd of `m`'s BTF (0 when it has none), or -1 with errno set and btf_log holding the kernel's reason. */
static int btf_fd_for(struct btf_cache *c, const struct map_spec *m)
{
	if (m->btf_len == ABSENT)
		return 0;
	for (int i = 0; i < c->n; i++)
		if (c->len[i] == m->btf_len && !memcmp(c->blob[i], m->btf, m->btf_len))
			return c->fd[i];
	int fd = load_btf_blob(m->btf, m->btf_len);
	if (fd < 0)
		return -1;
	if (c->n < 64) {
		c->blob[c->n] = m->btf;
		c->len[c->n] = m->btf_len;
		c->fd[c->n++] = fd;
	}
	return fd;
}

static int init_and_freeze(int fd, const struct map_spec *m)
{
	if (m->init_len != ABSENT) {
		size_t klen = m->key_size > 4 ? m->key_size : 4;
		uint8_t *key = calloc(1, klen), *value = calloc(1, m->value_size + 1);
		memcpy(value, m->init, m->init_len < m->value_size ? m->init_len : m->value_size);
		uint8_t attr[ATTR_SIZE] = {0};
		put_u32(attr + 0, (uint32_t)fd);
		put_u64(attr + 8, (uintptr_t)key);
		put_u64(attr + 16, (uintptr_t)value);
		long r = sys_bpf(BPF_MAP_UPDATE_ELEM, attr);
		free(key);
		free(value);
		if (r < 0)
			return -1;
	}
	if (m->frozen) {
		uint8_t attr[ATTR_SIZE] = {0};
		put_u32(attr + 0, (uint32_t)fd);
		if (sys_bpf(BPF_MAP_FREEZE, attr) < 0)
			return -1;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Timed result payload: a 48-byte head (u32 index, u32 status, i32 ret, u32 detail, u64 wall_ns,
 * u32 log_total, u32 log_len, u32 info_ok, u32 verified_insns, u32 xlated_prog_len, u32 jited_prog_len),
 * u32 rep_count, rep_count times (i32 ret, u32 has_time, u64 verification time in usec), then log_len
 * bytes: the first load's log, or its last log_len bytes when the whole log could never fit in the
 * output region. Returns -1 (nothing written) when it does not fit in what is left. */
static size_t first_result_pos;

struct prog_info {
	uint32_t ok, verified_insns, xlated_len, jited_len;
};

struct rep {
	int32_t ret;
	uint32_t has_time;
	uint64_t time_us;
};

#define RESULT_HEAD 48
#define REP_SIZE 16

static int emit_result(uint32_t idx, uint32_t status, int32_t ret, uint32_t detail, uint64_t wall_ns,
		       const struct prog_info *info, const struct rep *reps, uint32_t n_reps,
		       const char *log, size_t log_len)
{
	size_t head_len = RESULT_HEAD + 4 + (size_t)n_reps * REP_SIZE;
	uint8_t *head = calloc(1, head_len);
	if (!head)
		emit_fatal("cannot allocate a %zu-byte result record", head_len);
	size_t total = log_len, fixed = 8 + head_len + 4;
	if (out_pos + fixed + log_len + CONTROL_RESERVE > out_size) {
		if (out_pos > first_result_pos || out_pos + fixed + CONTROL_RESERVE > out_size) {
			free(head);
			return -1; /* a later boot, with an empty region, may hold it */
		}
		size_t room = out_size - out_pos - fixed - CONTROL_RESERVE;
		log += log_len - room; /* it never fits: keep the end, where the reason and statistics are */
		log_len = room;
	}
	put_u32(head + 0, idx);
	put_u32(head + 4, status);
	put_u32(head + 8, (uint32_t)ret);
	put_u32(head + 12, detail);
	put_u64(head + 16, wall_ns);
	put_u32(head + 24, (uint32_t)total);
	put_u32(head + 28, (uint32_t)log_len);
	if (info) {
		put_u32(head + 32, info->ok);
		put_u32(head + 36, info->verified_insns);
		put_u32(head + 40, info->xlated_len);
		put_u32(head + 44, info->jited_len);
	}
	put_u32(head + RESULT_HEAD, n_reps);
	for (uint32_t i = 0; i < n_reps; i++) {
		uint8_t *r = head + RESULT_HEAD + 4 + (size_t)i * REP_SIZE;
		put_u32(r, (uint32_t)reps[i].ret);
		put_u32(r + 4, reps[i].has_time);
		put_u64(r + 8, reps[i].time_us);
	}
	int rc = emit(REC_TIMED_RESULT, head, head_len, log, log_len);
	free(head);
	return rc;
}

/* The kernel's `verification time N usec`, found the way pyverifier.result.parse_log_stats finds it:
 * the first one at the start of a line or glued to a message that lacks its newline. */
static int verification_time(const char *log, uint64_t *us)
{
	static const char key[] = "verification time ";
	for (const char *p = strstr(log, key); p; p = strstr(p + 1, key)) {
		if (p != log && p[-1] != '\n' && isspace((unsigned char)p[-1]))
			continue;
		const char *d = p + sizeof(key) - 1;
		if (!isdigit((unsigned char)*d))
			continue;
		uint64_t v = 0;
		while (isdigit((unsigned char)*d))
			v = v * 10 + (uint64_t)(*d++ - '0');
		if (strncmp(d, " usec", 5))
			continue;
		*us = v;
		return 1;
	}
	return 0;
}

static void read_prog_info(int fd, struct prog_info *pi)
{
	uint8_t info[PROG_INFO_SIZE] = {0}, attr[ATTR_SIZE] = {0};
	put_u32(attr + 0, (uint32_t)fd);
	put_u32(attr + 4, PROG_INFO_SIZE);
	put_u64(attr + 8, (uintptr_t)info);
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, attr) < 0)
		return; /* statistics only: the verdict stands */
	pi->ok = 1;
	memcpy(&pi->jited_len, info + 16, 4);
	memcpy(&pi->xlated_len, info + 20, 4);
	memcpy(&pi->verified_insns, info + 216, 4);
}

/* What BPF_PROG_LOAD gets for one program (the same for every repetition). */
struct load_req {
	uint32_t prog_type, n_insns;
	const uint8_t *insns;
	const char *license;
	uint32_t log_level, prog_flags;
	const uint8_t *name;
	uint16_t name_len;
	uint32_t attach, attach_btf_id;
	const int *fds; /* NULL without maps */
	int btf_fd; /* the program's own BTF, -1 without */
	const uint8_t *func_info, *line_info; /* records of 8 and 16 bytes, sent with btf_fd */
	uint32_t func_info_cnt, line_info_cnt;
};

/* One BPF_PROG_LOAD with its log in *log (*size bytes), the buffer regrown until the log fits (or
 * MAX_LOG_SIZE). Returns the fd or -errno; *log is NULL when no buffer of *size bytes could be had. */
static int load_prog(const struct load_req *q, char **log, uint32_t *size)
{
	for (;;) {
		if (!*log && !(*log = malloc(*size))) {
			if (*size <= FALLBACK_LOG_SIZE)
				return -ENOMEM;
			*size = FALLBACK_LOG_SIZE;
			continue;
		}
		(*log)[0] = 0;
		uint8_t attr[ATTR_SIZE] = {0};
		put_u32(attr + 0, q->prog_type);
		put_u32(attr + 4, q->n_insns);
		put_u64(attr + 8, (uintptr_t)q->insns);
		put_u64(attr + 16, (uintptr_t)q->license);
		put_u32(attr + 24, q->log_level);
		put_u32(attr + 28, q->log_level ? *size : 0);
		put_u64(attr + 32, q->log_level ? (uintptr_t)*log : 0);
		put_u32(attr + 44, q->prog_flags);
		memcpy(attr + 48, q->name, q->name_len < 15 ? q->name_len : 15);
		put_u32(attr + 68, q->attach);
		put_u32(attr + 108, q->attach_btf_id);
		if (q->fds)
			put_u64(attr + 120, (uintptr_t)q->fds);
		if (q->btf_fd >= 0) { /* prog_btf_fd, func_info, line_info: the offsets kernel_loader/loader.py uses */
			put_u32(attr + 72, (uint32_t)q->btf_fd);
			if (q->func_info_cnt) {
				put_u32(attr + 76, 8);
				put_u64(attr + 80, (uintptr_t)q->func_info);
			}
			put_u32(attr + 88, q->func_info_cnt);
			if (q->line_info_cnt) {
				put_u32(attr + 92, 16);
				put_u64(attr + 96, (uintptr_t)q->line_info);
			}
			put_u32(attr + 104, q->line_info_cnt);
		}
		long r = sys_bpf(BPF_PROG_LOAD, attr);
		int ret = r < 0 ? -errno : (int)r;
		uint32_t true_size;
		memcpy(&true_size, attr + 140, 4);
		if (ret == -ENOSPC && q->log_level && *size < MAX_LOG_SIZE) {
			/* 6.4+ says how large the log is; older kernels leave the field zero: double the buffer */
			if (true_size > *size)
				*size = true_size < MAX_LOG_SIZE ? true_size + 1 : MAX_LOG_SIZE;
			else
				*size *= 2;
			free(*log);
			*log = NULL;
			continue;
		}
		return ret;
	}
}

/* Verify one program read from the batch `repeat` times; returns -1 when the output region is full. */
static int one_program(uint32_t log_level, uint32_t repeat, int version)
{
	uint32_t idx = get_u32("program index");
	uint32_t prog_type = get_u32("prog_type");
	uint32_t attach = get_u32("expected_attach_type");
	uint32_t prog_flags = get_u32("prog_flags");
	uint32_t attach_btf_id = get_u32("attach_btf_id");
	uint32_t n_insns = get_u32("insn count");
	uint32_t n_maps = get_u32("map count");
	uint32_t btf_len = ABSENT, fi_cnt = 0, li_cnt = 0; /* VDB2/VDB3: no program BTF */
	if (version >= 4) {
		btf_len = get_u32("program btf length");
		fi_cnt = get_u32("func_info count");
		li_cnt = get_u32("line_info count");
	}
	uint16_t name_len = get_u16("name length");
	uint16_t lic_len = get_u16("license length");
	const uint8_t *name = get_bytes(name_len, "name");
	const uint8_t *lic = get_bytes(lic_len, "license");
	const uint8_t *insns_in = get_bytes((size_t)n_insns * 8, "insns");
	const uint8_t *prog_btf = btf_len != ABSENT ? get_bytes(btf_len, "program btf") : NULL;
	const uint8_t *func_info = get_bytes((size_t)fi_cnt * 8, "func_info");
	const uint8_t *line_info = get_bytes((size_t)li_cnt * 16, "line_info");
	if (!prog_btf && (fi_cnt || li_cnt))
		emit_fatal("program #%u has func_info or line_info but no BTF", idx);
	struct map_spec *maps = calloc(n_maps ? n_maps : 1, sizeof(*maps));
	for (uint32_t i = 0; i < n_maps; i++)
		read_map(&maps[i]);

	uint64_t t0 = now_ns();
	int *fds = calloc(n_maps ? n_maps : 1, sizeof(int));
	int *all_fds = calloc(2 * (n_maps ? n_maps : 1), sizeof(int));
	int n_all = 0, rc = 0, prog_btf_fd = -1;
	struct btf_cache btfs = {.n = 0};
	uint8_t *insns = NULL;
	char *log = NULL, *rlog = NULL;
	struct rep *reps = NULL;
	for (uint32_t i = 0; i < n_maps; i++) {
		int inner_fd = 0, fd, btf_fd;
		if (maps[i].inner) {
			if ((btf_fd = btf_fd_for(&btfs, maps[i].inner)) < 0)
				goto btf_fail;
			if ((inner_fd = create_map(maps[i].inner, 0, btf_fd)) < 0)
				goto map_fail;
			all_fds[n_all++] = inner_fd;
		}
		if ((btf_fd = btf_fd_for(&btfs, &maps[i])) < 0)
			goto btf_fail;
		if ((fd = create_map(&maps[i], inner_fd, btf_fd)) < 0)
			goto map_fail;
		all_fds[n_all++] = fd;
		fds[i] = fd;
		if (init_and_freeze(fd, &maps[i]) < 0)
			goto map_fail;
		continue;
map_fail:;
		int err = errno;
		rc = emit_result(idx, ST_MAP_FAIL, -err, i, now_ns() - t0, NULL, NULL, 0, NULL, 0);
		goto out;
btf_fail:
		err = errno;
		rc = emit_result(idx, ST_MAP_BTF_FAIL, -err, i, now_ns() - t0, NULL, NULL, 0, btf_log, strlen(btf_log));
		goto out;
	}
	for (int i = 0; i < btfs.n; i++) /* a map keeps its own reference to its BTF */
		close(btfs.fd[i]);
	btfs.n = 0;
	/* the program's own BTF, after the maps as on the host (kernel_loader.load) */
	if (prog_btf && (prog_btf_fd = load_btf_blob(prog_btf, btf_len)) < 0) {
		int err = errno;
		rc = emit_result(idx, ST_PROG_BTF_FAIL, -err, 0, now_ns() - t0, NULL, NULL, 0, btf_log, strlen(btf_log));
		goto out;
	}

	/* patch map indices into fds: ld_imm64 (0x18) with src BPF_PSEUDO_MAP_FD (1) or _VALUE (2) */
	insns = malloc((size_t)n_insns * 8 + 8);
	memcpy(insns, insns_in, (size_t)n_insns * 8);
	for (uint32_t i = 0; i < n_insns; i++) {
		uint8_t *ins = insns + 8 * i;
		uint8_t src = ins[1] >> 4;
		if (ins[0] == 0x18 && (src == 1 || src == 2)) {
			int32_t imm;
			memcpy(&imm, ins + 4, 4);
			if (imm < 0 || (uint32_t)imm >= n_maps) {
				rc = emit_result(idx, ST_BAD_MAP_REF, -EINVAL, i, now_ns() - t0, NULL, NULL, 0, NULL, 0);
				goto out;
			}
			memcpy(ins + 4, &fds[imm], 4);
		}
	}
	char license[256] = {0};
	memcpy(license, lic, lic_len < 255 ? lic_len : 255);

	struct load_req q = {prog_type, n_insns, insns, license, log_level, prog_flags, name, name_len, attach,
			     attach_btf_id, n_maps ? fds : NULL, prog_btf_fd, func_info, line_info, fi_cnt, li_cnt};
	uint32_t size = INITIAL_LOG_SIZE;
	int ret = load_prog(&q, &log, &size);
	if (!log) {
		rc = emit_result(idx, ST_NO_MEMORY, -ENOMEM, size, now_ns() - t0, NULL, NULL, 0, NULL, 0);
		goto out;
	}
	log[size - 1] = 0;
	struct prog_info info = {0};
	if (ret >= 0) {
		read_prog_info(ret, &info);
		close(ret);
	}
	reps = calloc(repeat, sizeof(*reps));
	if (!reps)
		emit_fatal("cannot allocate %u repetition records", repeat);
	uint32_t n_reps = 1;
	reps[0].ret = ret;
	reps[0].has_time = (uint32_t)verification_time(log, &reps[0].time_us);
	/* the other repetitions: the same load into a second buffer, of which only the time is kept; a
	 * verdict that changes ends them (the host reports it, as kernel_loader.load does) */
	uint32_t rsize = size;
	for (; n_reps < repeat; n_reps++) {
		int r = load_prog(&q, &rlog, &rsize);
		if (!rlog) {
			rc = emit_result(idx, ST_NO_MEMORY, -ENOMEM, rsize, now_ns() - t0, NULL, NULL, 0, NULL, 0);
			goto out;
		}
		rlog[rsize - 1] = 0;
		if (r >= 0)
			close(r);
		reps[n_reps].ret = r;
		reps[n_reps].has_time = (uint32_t)verification_time(rlog, &reps[n_reps].time_us);
		if ((r >= 0) != (ret >= 0)) {
			n_reps++;
			break;
		}
	}
	uint64_t wall = now_ns() - t0;
	rc = emit_result(idx, ST_LOADED, ret, 0, wall, &info, reps, n_reps, log, strlen(log));
out:
	free(log);
	free(rlog);
	free(reps);
	free(insns);
	for (int i = 0; i < btfs.n; i++)
		close(btfs.fd[i]);
	if (prog_btf_fd >= 0)
		close(prog_btf_fd);
	for (int i = 0; i < n_all; i++)
		close(all_fds[i]);
	for (uint32_t i = 0; i < n_maps; i++)
		free_map(&maps[i]);
	free(maps);
	free(fds);
	free(all_fds);
	return rc;
}

int main(void)
{
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) && errno != EBUSY)
		die_console("cannot mount /sys: %s", strerror(errno));
	map_output();

	struct utsname u;
	uname(&u);

	int fd = open("/batch", O_RDONLY);
	if (fd < 0)
		emit_fatal("cannot open /batch: %s", strerror(errno));
	struct stat st;
	fstat(fd, &st);
	uint8_t *batch = malloc(st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, batch + got, st.st_size - got);
		if (r <= 0)
			emit_fatal("cannot read /batch: %s", r < 0 ? strerror(errno) : "short file");
		got += r;
	}
	close(fd);
	in = batch;
	in_end = batch + got;

	const uint8_t *magic = get_bytes(4, "magic");
	int version = !memcmp(magic, "VDB4", 4) ? 4 : !memcmp(magic, "VDB3", 4) ? 3 : !memcmp(magic, "VDB2", 4) ? 2 : 0;
	if (!version)
		emit_fatal("/batch starts with none of VDB4, VDB3, VDB2");
	uint32_t log_level = get_u32("log level");
	uint32_t count = get_u32("program count");
	uint32_t repeat = version >= 3 ? get_u32("repeat count") : 1; /* VDB2 has none: one load a program */
	if (repeat < 1 || repeat > MAX_REPEAT)
		emit_fatal("/batch asks for %u repetitions (1 to %u)", repeat, MAX_REPEAT);

	uint8_t hello[8 + sizeof(u.release)];
	put_u32(hello, count);
	put_u32(hello + 4, (uint32_t)strlen(u.release));
	memcpy(hello + 8, u.release, strlen(u.release));
	emit(REC_HELLO, hello, 8 + strlen(u.release), NULL, 0);
	first_result_pos = out_pos;

	uint32_t done = 0;
	for (; done < count; done++) {
		if (one_program(log_level, repeat, version) < 0) {
			uint8_t full[4];
			put_u32(full, done);
			emit(REC_FULL, full, 4, NULL, 0);
			break;
		}
	}
	uint8_t d[4];
	put_u32(d, done);
	emit(REC_DONE, d, 4, NULL, 0);
	reboot(RB_POWER_OFF);
	return 0;
}
