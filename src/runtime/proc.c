#include "runtime/proc.h"
#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

void cell_proc_reap(pid_t pid)
{
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int cell_proc_wait_exit_code(pid_t pid)
{
    int status = 0;
    for (;;) {
        pid_t w = waitpid(-1, &status, 0);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return 255;
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static volatile pid_t forward_to;

static void forward_signal(int sig)
{
    if (forward_to > 0)
        kill(forward_to, sig);
}

void cell_proc_forward_signals(pid_t pid)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    forward_to = pid;
    struct sigaction sa = {.sa_handler = pid > 0 ? forward_signal : SIG_DFL,
                           .sa_flags = SA_RESTART};
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
}

int cell_proc_write_pid_file(const char *path, pid_t pid, cell_err_t *err)
{
    if (!path)
        return 0;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", pid);
    int r = cell_write_file_atomic_at(AT_FDCWD, path, buf, (size_t)n, 0644);
    return r < 0 ? cell_error(err, -r, "pid file %s", path) : 0;
}
