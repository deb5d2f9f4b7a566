/* ringnetd's configuration file (docs/ringnetd.conf.md).
 *
 * An INI file read once at start-up into a plain struct of fixed-size
 * fields, so the rest of the daemon never parses text or allocates for it:
 *
 *     [node]
 *     listen    = 7400                 ; PORT, ADDR:PORT or [V6]:PORT
 *     group     = group.pub            ; the trust anchor (required)
 *     key       = node.key             ; this node's secret key (required)
 *     cert      = node.cert            ; this node's certificate (required)
 *     control   = /run/ringnet/ringnetd.sock
 *     log_level = info                 ; error|warn|info|debug|trace
 *     dht_ttl   = 3600                 ; lease of the published records, s
 *     [bootstrap]
 *     peer = seed1.example.org:7400    ; repeated, or a list
 *     [tun]
 *     device    = rn0                  ; or "none": the overlay alone
 *     mtu       = 1420
 *     prefix    = 10.77.0.0/16         ; the group's IPv4 prefix
 *     multicast = no                   ; accept multicast from members
 *     mss_clamp = no                   ; clamp TCP SYNs to the relay MTU
 *     offload   = yes                  ; TSO/GRO on the TUN, UDP GSO/GRO
 *     busy_poll = 0                    ; us of polling after traffic
 *     shortcut  = 64                   ; packets/s to a member that make a
 *                                      ; direct link to it; 0: never
 *
 * Relative paths are taken relative to the directory of the configuration
 * file, so a directory of files can be moved as a whole. Every error is one
 * line "FILE:LINE: what is wrong; how to fix it".
 */
#ifndef RN_CONFIG_H
#define RN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define RN_CONFIG_BOOTSTRAP_MAX 16
#define RN_CONFIG_PATH_MAX      4096
#define RN_CONFIG_PEER_MAX      256 /* one "host:port", with its NUL */

#define RN_CONFIG_LISTEN_ADDR_DEFAULT "::"
#define RN_CONFIG_LISTEN_PORT_DEFAULT 7400
#define RN_CONFIG_CONTROL_DEFAULT     "/run/ringnet/ringnetd.sock"
#define RN_CONFIG_DHT_TTL_DEFAULT     3600  /* s: member and name records */
#define RN_CONFIG_DHT_TTL_MIN         60    /* renewed at 2/3 of the lease */
#define RN_CONFIG_DHT_TTL_MAX         86400 /* the DHT's longest lease */
#define RN_CONFIG_TUN_DEVICE_DEFAULT  "rn0"
#define RN_CONFIG_TUN_MTU_DEFAULT     1420  /* docs/vpn.md section 4 */
#define RN_CONFIG_TUN_MTU_MIN         1280  /* IPv6's minimum */
#define RN_CONFIG_TUN_MTU_MAX         1443  /* RN_IP_MAX: a 1500 link */
#define RN_CONFIG_IFNAME_MAX          16    /* IFNAMSIZ, with its NUL */
#define RN_CONFIG_BUSY_POLL_DEFAULT   0     /* us; docs/vpn.md section 5 */
#define RN_CONFIG_BUSY_POLL_MAX       10000
#define RN_CONFIG_SHORTCUT_DEFAULT    64    /* packets; docs/vpn.md sec. 2 */
#define RN_CONFIG_SHORTCUT_MAX        65535

typedef struct rn_config {
	char listen_addr[64]; /* default "::" (dual-stack), or "0.0.0.0" or
	                         a numeric address */
	uint16_t listen_port; /* default 7400 */
	/* "host:port", "1.2.3.4:7400" or "[::1]:7400", as written */
	char bootstrap[RN_CONFIG_BOOTSTRAP_MAX][RN_CONFIG_PEER_MAX];
	unsigned n_bootstrap;
	char group_path[RN_CONFIG_PATH_MAX];   /* the group's public key file
	                                          (trust anchor); required */
	char key_path[RN_CONFIG_PATH_MAX];     /* this node's secret key;
	                                          required */
	char cert_path[RN_CONFIG_PATH_MAX];    /* this node's member
	                                          certificate; required */
	char control_path[RN_CONFIG_PATH_MAX]; /* the control socket */
	int log_level;      /* RN_LOG_* from core/env.h; default RN_LOG_INFO */
	uint32_t dht_ttl_s; /* lease of the records the daemon publishes and
	                       the default of `ringnet dht put`; 3600 */
	/* [tun]: the VPN's device; tun_device "" means none (overlay only) */
	char tun_device[RN_CONFIG_IFNAME_MAX];
	uint16_t tun_mtu;
	uint8_t tun_prefix[4];   /* the group's IPv4 prefix, if set */
	uint8_t tun_prefix_len;  /* 0: unset (the /16 around the address) */
	int tun_multicast;       /* accept multicast/broadcast from members */
	int tun_mss_clamp;       /* clamp TCP MSS to the relayed path's */
	int tun_offload;         /* try the TUN offloads (docs/vpn.md sec. 5) */
	uint32_t tun_busy_poll_us; /* poll without sleeping after traffic */
	uint32_t tun_shortcut;   /* hot destination threshold, 0: no
	                            shortcuts (rn_vpn_settings) */
	/* [nat]: port mappings asked of the home gateway, RN_PORTMAP_* bits
	 * (nat/portmap.h); 0: none */
	unsigned nat_portmap;
} rn_config;

/* The defaults: listen [::]:7400, no bootstrap peers, no key paths, the
 * control socket in /run/ringnet, log level info, DHT leases of 3600 s. */
void rn_config_default(rn_config *c);

/* Fills *c from the file at path, over rn_config_default(). 0, or -1 with
 * err = one line "FILE:LINE: what is wrong; how to fix it" (LINE is 0 when
 * no single line is at fault). *c is unspecified after an error. */
int rn_config_load(const char *path, rn_config *c, char *err, size_t errlen);

/* Splits "host:port" or "[v6]:port" into host (without brackets) and port.
 * An IPv6 address must be bracketed. -1 with a reason in err (no file or
 * line: the caller adds those). */
int rn_hostport_split(const char *s, char *host, size_t hostlen, uint16_t *port,
                      char *err, size_t errlen);

/* The level for "error", "warn", "info", "debug" or "trace" (any case), or
 * -1. */
int rn_config_log_level_parse(const char *name);

#endif
