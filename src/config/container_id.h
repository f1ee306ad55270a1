/* container.id, from what a containerised process can see of itself: the
 * cgroup path (cgroup v1, and v2 where the runtime names the scope after the
 * container: docker, containerd, CRI-O, podman) or, when the cgroup
 * namespace hides it (cgroup v2's "0::/"), the files the runtime bind-mounts
 * from the container's own folder (/etc/hostname, resolv.conf). */
#ifndef OA_CONTAINER_ID_H
#define OA_CONTAINER_ID_H

#include <stdbool.h>
#include <stddef.h>

/* Container ids are 64 lowercase hex digits (docker, containerd, CRI-O, podman). */
#define OA_CONTAINER_ID_LEN 64

/* One line of /proc/self/cgroup: the id when the path's last segment ends
 * in one ("<id>", "docker-<id>.scope", "cri-containerd-<id>.scope"). */
bool oa_container_id_from_cgroup_line(const char *line, size_t len, char id[OA_CONTAINER_ID_LEN + 1]);

/* One line of /proc/self/mountinfo: the id of a ".../containers/<id>/..."
 * source (docker's /var/lib/docker/containers, podman's overlay-containers).
 * Kubernetes sandboxes (".../sandboxes/<id>/") are the pod's, not the
 * container's: not taken. */
bool oa_container_id_from_mountinfo_line(const char *line, size_t len, char id[OA_CONTAINER_ID_LEN + 1]);

/* Reads /proc/self/cgroup, then /proc/self/mountinfo. */
bool oa_container_id_detect(char id[OA_CONTAINER_ID_LEN + 1]);

#endif
