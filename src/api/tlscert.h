/* tlscert.h — the server's TLS certificate, as Proxmox keeps it on port 8006.
 *
 * rg_tlscert_ensure makes sure <config>/local/pve-ssl.pem and pve-ssl.key exist: if either is
 * missing it generates an RSA-2048 key (0600) and a self-signed certificate (10 years, SAN
 * localhost, 127.0.0.1, ::1 and the host name). It then reads both PEM texts into *cert and *key
 * (malloc'd; the caller frees the key with rg_free_secret). Errors: RG_ERR_IO / RG_ERR_CRYPTO
 * with a message naming the file. */
#ifndef RG_API_TLSCERT_H
#define RG_API_TLSCERT_H

#include "base/err.h"

rg_err rg_tlscert_ensure(const char *config_dir, char **cert, char **key, struct rg_msg *msg);

#endif
