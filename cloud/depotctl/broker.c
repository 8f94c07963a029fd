/*
 * depotctl broker-config: writes the Mosquitto 2.0 configuration of Depot's
 * broker, OUT/mosquitto.conf and OUT/acl, and makes OUT/data for persistence.
 *
 * The broker trusts exactly one thing: a client certificate issued by the
 * Depot device CA and not on its revocation list (devices.crl). Its CN becomes the MQTT username (use_identity_as_username) and
 * also the client id (use_username_as_clientid: whatever id a client sends
 * is replaced), and the ACL is written in terms of that username, so a
 * gateway holding dealer A's certificate can only ever touch depot/v1/A/...
 * and can only ever take over A's own connection, never B's. No password
 * file, no anonymous access, and the only listener is TLS on 127.0.0.1.
 *
 * Hubs: one `user` block per hub instance (--hub NAME, repeatable), each
 * with its own certificate NAME.crt/NAME.key in the PKI folder, since two
 * connections with one CN would take each other's client id. A hub name must
 * be a service of ours (its key is in the folder, which a dealer's never is)
 * and never a dealer that depotctl pki sign recorded in PKI/dealers/.
 *
 * Both files are generated, never edited: they are written to a temporary
 * name and renamed, so a broker (re)started at any moment reads a whole file.
 * Paths inside them are absolute, so the broker may run from any folder.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "depot/id.h"
#include "depot/pki.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char cmd[] = "depotctl broker-config";

#define HUBS_MAX 32

struct broker_conf {
    int port;
    const char *user;
    const char *hubs[HUBS_MAX];
    size_t n_hubs;
    char ca[PATH_MAX], crl[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
    char out[PATH_MAX], acl[PATH_MAX], data[PATH_MAX];
};

static const char conf_text[] =
    "# Mosquitto 2.0 configuration for Depot, written by depotctl broker-config.\n"
    "# Regenerate it with depotctl rather than editing it.\n"
    "\n"
    "# Security settings (allow_anonymous, acl_file) apply to every listener.\n"
    "per_listener_settings false\n"
    "# Started as root, Mosquitto drops to this user (default: mosquitto), which\n"
    "# must be able to read the broker's key (mode 0600, owned by %s).\n"
    "user %s\n"
    "\n"
    "allow_anonymous false\n"
    "acl_file %s\n"
    "\n"
    "persistence true\n"
    "persistence_location %s/\n"
    "autosave_interval 60\n"
    "# A gateway may be offline for days; its session (and the hub's) survives\n"
    "# that, but not forever.\n"
    "persistent_client_expiration 30d\n"
    "\n"
    "# Small QoS 1 messages (an order's decision right after a PUBACK) go out at\n"
    "# once instead of waiting ~40 ms for the peer's delayed ACK (Nagle).\n"
    "set_tcp_nodelay true\n"
    "\n"
    "log_dest stderr\n"
    "log_type error\n"
    "log_type warning\n"
    "log_type notice\n"
    "log_type information\n"
    "connection_messages true\n"
    "\n"
    "# Queues. With the default max_queued_messages (1000), Mosquitto 2.0.11 was\n"
    "# measured silently dropping QoS 1 messages for a slow subscriber (the hub\n"
    "# catching up after a restart) while still acknowledging them to the\n"
    "# publisher with PUBACK. So the per-client queue is bounded by bytes (256 MiB,\n"
    "# days of reports from hundreds of dealers), not by a message count a burst\n"
    "# reaches in seconds. Anything dropped anyway is harmless: a gateway forgets\n"
    "# an outbox entry only when the hub acknowledges end to end that it applied\n"
    "# it, and resends what is unacknowledged; the hub's dedupe absorbs resends.\n"
    "max_queued_messages 1000000\n"
    "max_queued_bytes 268435456\n"
    "# QoS 1 messages in flight per client, each way (also the Receive Maximum\n"
    "# this broker gives clients). A client gets at most this many per round trip:\n"
    "# at 20, a link with 2 s of latency each way carried 5 messages a second, and\n"
    "# the hub fell behind one gateway's scans (system.broker_proxy).\n"
    "max_inflight_messages 1000\n"
    "\n"
    "# The one listener: TLS 1.2 or later on the local interface only. A client\n"
    "# certificate from the Depot device CA is required (the server CA, which\n"
    "# issued this broker's own certificate, issues no client's); its CN is the\n"
    "# username the ACL sees (a dealer id, or the hub). A certificate on the\n"
    "# device CA's revocation list (depotctl pki revoke) is refused: after a\n"
    "# revocation, SIGHUP makes the broker read the list again for new\n"
    "# connections; a restart also drops one already open.\n"
    "listener %d 127.0.0.1\n"
    "cafile %s\n"
    "crlfile %s\n"
    "certfile %s\n"
    "keyfile %s\n"
    "require_certificate true\n"
    "use_identity_as_username true\n"
    "# ... and the client id: a client with dealer A's certificate that connects\n"
    "# with another id (gw-B, or B) is still A, so it can never disconnect B's\n"
    "# gateway by taking its id. One connection per certificate: each hub\n"
    "# instance has its own.\n"
    "use_username_as_clientid true\n"
    "tls_version tlsv1.2\n";

static const char acl_text[] =
    "# Depot broker ACL, written by depotctl broker-config.\n"
    "# A client's username is its certificate CN (use_identity_as_username): for a\n"
    "# gateway, its dealer id (checked by depotctl pki sign: " DEPOT_ID_RULE ",\n"
    "# so never an MQTT wildcard or /).\n"
    "# Pattern lines apply to every client, %%u being its username.\n"
    "#\n"
    "# Mosquitto 2.0 grants every SUBSCRIBE under acl_file and checks read access\n"
    "# on each message it delivers, against the message's real topic. So a\n"
    "# gateway that subscribes to another dealer's topics receives nothing, and\n"
    "# the hub's shared subscription $share/hub/depot/v1/+/up/# is checked as\n"
    "# depot/v1/<dealer>/up/..., which the hub may read.\n"
    "\n"
    "# A gateway writes its uplink and its online state, reads its downlink.\n"
    "pattern write depot/v1/%%u/up/#\n"
    "pattern write depot/v1/%%u/state\n"
    "pattern read depot/v1/%%u/down/#\n"
    "\n"
    "# The manufacturer's hub instances (one certificate each) read and write every\n"
    "# dealer's topics, and publish every alert change for other consumers on\n"
    "# depot/alerts/v1/.\n";

static const char acl_hub_text[] = "\nuser %s\n"
                                   "topic readwrite depot/v1/#\n"
                                   "topic readwrite depot/alerts/#\n";

/* Writes the formatted text to path through path.tmp and a rename. */
static __attribute__((format(printf, 3, 4))) bool write_file(const char *path, mode_t mode,
                                                             const char *fmt, ...)
{
    char tmp[PATH_MAX + 8];
    FILE *f;
    va_list ap;
    bool ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", cmd, tmp, strerror(errno));
        return false;
    }
    va_start(ap, fmt);
    ok = vfprintf(f, fmt, ap) >= 0;
    va_end(ap);
    ok = fchmod(fileno(f), mode) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", cmd, path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

/* realpath of dir/name, which must exist. */
static bool pki_file(char *out, const char *dir, const char *name)
{
    char path[PATH_MAX];

    if (!ctl_path(path, sizeof(path), dir, name))
        return false;
    if (!realpath(path, out)) {
        fprintf(stderr, "%s: %s: %s (make it with depotctl pki)\n", cmd, path, strerror(errno));
        return false;
    }
    return true;
}

static bool make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot make %s: %s\n", cmd, path, strerror(errno));
        return false;
    }
    return true;
}

static bool resolve_paths(struct broker_conf *c, const char *dir, const char *name, const char *out)
{
    char file[PKI_ID_MAX + 8];

    snprintf(file, sizeof(file), "%s.crt", name);
    if (!pki_file(c->ca, dir, PKI_DEVICE_CA_CRT) || !pki_file(c->crl, dir, PKI_DEVICE_CRL) ||
        !pki_file(c->cert, dir, file))
        return false;
    snprintf(file, sizeof(file), "%s.key", name);
    if (!pki_file(c->key, dir, file))
        return false;
    if (!make_dir(out) || !realpath(out, c->out)) {
        fprintf(stderr, "%s: %s: %s\n", cmd, out, strerror(errno));
        return false;
    }
    return ctl_path(c->acl, sizeof(c->acl), c->out, "acl") &&
           ctl_path(c->data, sizeof(c->data), c->out, "data") && make_dir(c->data);
}

/* The ACL: the gateways' patterns, then one user block per hub. */
static bool write_acl(const struct broker_conf *c)
{
    char text[sizeof(acl_text) + HUBS_MAX * (sizeof(acl_hub_text) + PKI_ID_MAX)];
    size_t n = (size_t)snprintf(text, sizeof(text), acl_text);

    for (size_t i = 0; i < c->n_hubs; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, acl_hub_text, c->hubs[i]);
    return write_file(c->acl, 0644, "%s", text);
}

static bool write_broker_files(const struct broker_conf *c)
{
    char conf[PATH_MAX];

    if (!ctl_path(conf, sizeof(conf), c->out, "mosquitto.conf"))
        return false;
    if (!write_acl(c))
        return false;
    if (!write_file(conf, 0644, conf_text, c->user, c->user, c->acl, c->data, c->port, c->ca,
                    c->crl, c->cert, c->key))
        return false;
    printf("broker config: %s\nACL:           %s\npersistence:   %s/\nlistener:      "
           "127.0.0.1:%d (TLS, client certificates from %s, revocations in %s)\nhubs:         ",
           conf, c->acl, c->data, c->port, c->ca, c->crl);
    for (size_t i = 0; i < c->n_hubs; i++)
        printf(" %s", c->hubs[i]);
    printf("\nrun:           mosquitto -c %s\n", conf);
    return true;
}

/* A hub name: a valid id, given once, a service of ours in dir (its key is there), no dealer. */
static bool hub_name_ok(const struct broker_conf *c, size_t i, const char *dir)
{
    const char *name = c->hubs[i];
    char file[PKI_ID_MAX + 16], path[PATH_MAX];

    if (!pki_id_valid(name)) {
        fprintf(stderr, "%s: --hub '%s' is not a valid name (" DEPOT_ID_RULE ")\n", cmd, name);
        return false;
    }
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->hubs[j], name)) {
            fprintf(stderr, "%s: --hub %s given twice\n", cmd, name);
            return false;
        }
    snprintf(file, sizeof(file), "dealers/%s.crt", name);
    if (ctl_path(path, sizeof(path), dir, file) && access(path, F_OK) == 0) {
        fprintf(stderr, "%s: --hub %s is a dealer (%s): it may not get a hub's rights\n", cmd, name,
                path);
        return false;
    }
    for (int k = 0; k < 2; k++) {
        snprintf(file, sizeof(file), "%s.%s", name, k ? "crt" : "key");
        if (!ctl_path(path, sizeof(path), dir, file) || access(path, F_OK) != 0) {
            fprintf(stderr,
                    "%s: --hub %s: no %s (make each hub instance its certificate with "
                    "depotctl pki client --dir %s --name %s)\n",
                    cmd, name, path, dir, name);
            return false;
        }
    }
    return true;
}

/* Every --hub (default: hub), each checked. */
static bool collect_hubs(struct broker_conf *c, int argc, char **argv, const char *dir)
{
    size_t n = ctl_values(argc, argv, "hub", c->hubs, HUBS_MAX);

    if (n > HUBS_MAX) {
        fprintf(stderr, "%s: at most %d --hub\n", cmd, HUBS_MAX);
        return false;
    }
    if (n == 0)
        c->hubs[n++] = "hub";
    c->n_hubs = n;
    for (size_t i = 0; i < n; i++)
        if (!hub_name_ok(c, i, dir))
            return false;
    return true;
}

int ctl_broker_config_main(int argc, char **argv)
{
    const char *dir = NULL, *port_s = NULL, *out = NULL, *name = "broker", *hub = NULL;
    struct broker_conf c = {0};
    const struct ctl_opt opts[] = {
        {"dir", &dir, true,
         "PKI folder with devices-ca.crt, devices.crl and the broker's NAME.crt, NAME.key"},
        {"port", &port_s, true, "TLS port, on 127.0.0.1 only"},
        {"out", &out, true, "folder for mosquitto.conf, acl and data/ (made if missing)"},
        {"hub", &hub, false,
         "a hub instance's certificate name (CN) in the PKI folder, given once per instance "
         "(default hub)"},
        {"name", &name, false, "the broker's certificate name in the PKI folder (default broker)"},
    };
    int rc =
        ctl_parse(cmd, "Write the broker's mosquitto.conf and ACL.", argc, argv, opts, N(opts));
    struct passwd *pw;

    if (rc)
        return rc < 0 ? CTL_OK : rc;
    if (!ctl_int(cmd, "port", port_s, 1, 65535, &c.port))
        return CTL_USAGE;
    if (!pki_id_valid(name)) {
        fprintf(stderr, "%s: --name must be " DEPOT_ID_RULE "\n", cmd);
        return CTL_USAGE;
    }
    (void)hub; /* every --hub is read by collect_hubs */
    if (!collect_hubs(&c, argc, argv, dir))
        return CTL_FAIL;
    pw = getpwuid(geteuid());
    if (!pw) {
        fprintf(stderr, "%s: cannot find the name of user %u\n", cmd, (unsigned)geteuid());
        return CTL_FAIL;
    }
    c.user = pw->pw_name;
    if (!resolve_paths(&c, dir, name, out) || !write_broker_files(&c))
        return CTL_FAIL;
    return CTL_OK;
}
