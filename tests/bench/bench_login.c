/*
 * bench_login: the hub's login (cloud/hub/accounts.c) beside a bare Argon2id check.
 *
 *   bench_login [--logins 40] [--threads 2] [--ops 2] [--mem-kib 65536]
 *
 * One user is stored in a SQLite store in a temporary folder with a
 * password hashed at [auth] pwhash_ops/pwhash_mem_kib (the defaults). Then:
 *
 *   1. baseline  crypto_pwhash_argon2id_str_verify of that hash, LOGINS times
 *                on one thread: the cost the login cannot go under
 *   2. login     hub_accounts_login (limits, the user read, the same check,
 *                a session written in a transaction), LOGINS times on one
 *                thread: ms per login and logins per second per core
 *   3. parallel  the same on THREADS threads at once, each with its store
 *                (the API's readers), through the hashing slots ([auth]
 *                parallel_logins = THREADS): logins per second in all
 *
 * Every login must succeed (exit 1 if not). The target: one login
 * takes 50 to 250 ms on this machine with the defaults.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "bench_util.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "store/accounts.h"

#define PASSWORD "a password of the benchmark"

static long n_logins = 40, n_threads = 2, ops = 2, mem_kib = 65536;
static struct hub_config cfg;
static hub_accounts *accounts;
static int failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

static void usage(FILE *out)
{
    fprintf(out, "usage: bench_login [--logins 40] [--threads 2] [--ops 2] [--mem-kib 65536]\n");
}

static void *login_loop(void *arg)
{
    hub_store *s = NULL;
    struct hub_login out;
    long retry, n = (long)(intptr_t)arg;
    if (hub_store_open(cfg.db, &s) != DEPOT_OK) {
        pthread_mutex_lock(&fail_lock);
        failures++;
        pthread_mutex_unlock(&fail_lock);
        return NULL;
    }
    for (long i = 0; i < n; i++)
        if (hub_accounts_login(accounts, s, "bench", PASSWORD, "127.0.0.1", depot_now_ms(), &out,
                               &retry) != HUB_LOGIN_OK) {
            pthread_mutex_lock(&fail_lock);
            failures++;
            pthread_mutex_unlock(&fail_lock);
        }
    hub_store_free(s);
    return NULL;
}

/* Seconds for threads x per logins. */
static double timed_logins(long threads, long per)
{
    pthread_t t[64];
    double t0 = bench_mono_s();
    for (long i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, login_loop, (void *)(intptr_t)per);
    for (long i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return bench_mono_s() - t0;
}

int main(int argc, char **argv)
{
    const struct bench_opt opts[] = {
        {"--logins", NULL, &n_logins, 1, 100000},
        {"--threads", NULL, &n_threads, 1, 64},
        {"--ops", NULL, &ops, 1, 20},
        {"--mem-kib", NULL, &mem_kib, 8192, 4194304},
        {NULL, NULL, NULL, 0, 0},
    };
    char dir[] = "/tmp/bench-login-XXXXXX", cmd[300];
    struct hub_user u = {.role = "viewer"};
    hub_store *s = NULL;
    double t0, bare, one, par;

    if (bench_parse_opts("bench_login", argc, argv, opts, usage) != 0)
        return 2;
    depot_log_init("bench_login", DEPOT_LOG_WARN);
    if (!mkdtemp(dir) || sodium_init() < 0)
        return 1;
    hub_config_defaults(&cfg);
    snprintf(cfg.db, sizeof(cfg.db), "%s/hub.db", dir);
    cfg.auth_pwhash_ops = ops;
    cfg.auth_pwhash_mem_kib = mem_kib;
    cfg.auth_parallel_logins = n_threads;
    cfg.auth_fail_per_address = 1000000; /* every login comes from one address */
    if (hub_accounts_new(&cfg, &accounts) != DEPOT_OK || hub_store_open(cfg.db, &s) != DEPOT_OK)
        return 1;
    snprintf(u.name, sizeof(u.name), "bench");
    if (hub_accounts_hash(accounts, PASSWORD, u.pwhash) != DEPOT_OK ||
        hub_store_user_add(s, &u) != DEPOT_OK)
        return 1;
    printf("Argon2id: opslimit %ld, memlimit %ld KiB (libsodium %s); %ld logins, %ld threads\n",
           ops, mem_kib, sodium_version_string(), n_logins, n_threads);

    t0 = bench_mono_s();
    for (long i = 0; i < n_logins; i++)
        if (crypto_pwhash_argon2id_str_verify(u.pwhash, PASSWORD, strlen(PASSWORD)) != 0)
            failures++;
    bare = bench_mono_s() - t0;
    one = timed_logins(1, n_logins);
    par = timed_logins(n_threads, n_logins);

    printf("baseline: bare crypto_pwhash_argon2id_str_verify: %.1f ms each, %.2f/s on one core\n",
           bare * 1000.0 / (double)n_logins, (double)n_logins / bare);
    printf("login: hub_accounts_login: %.1f ms each, %.2f logins/s on one core "
           "(%.2f x the bare check)\n",
           one * 1000.0 / (double)n_logins, (double)n_logins / one, one / bare);
    printf("parallel: %ld threads: %.2f logins/s in all, %.2f per thread\n", n_threads,
           (double)(n_threads * n_logins) / par, (double)n_logins / par);
    hub_store_free(s);
    hub_accounts_free(accounts);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_login: %s was not removed\n", dir);
    if (failures) {
        fprintf(stderr, "bench_login: %d logins failed\n", failures);
        return 1;
    }
    return 0;
}
