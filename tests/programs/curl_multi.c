/* N parallel transfers through the libcurl multi interface, each with a
 * header list of its own; afterwards checks that every list still holds
 * exactly what the program put in it (the shim must never touch it).
 *
 *   curl_multi URL N [CA_FILE]
 *
 * Prints "transfer I: status S" for each finished transfer, then
 * "lists unchanged" or "list I changed: ..." and exits 0 only if all
 * transfers succeeded and all lists are intact. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRANSFERS 64

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p, (void)u;
    return size * n;
}

static int check_list(int i, const struct curl_slist *l, const struct curl_slist *first_node)
{
    char want[2][64];
    snprintf(want[0], sizeof(want[0]), "X-Transfer: %d", i);
    snprintf(want[1], sizeof(want[1]), "X-Program: curl_multi");
    int n = 0;
    if (l != first_node) {
        printf("list %d changed: head node replaced\n", i);
        return 1;
    }
    for (; l != NULL; l = l->next, n++) {
        if (n >= 2 || strcmp(l->data, want[n]) != 0) {
            printf("list %d changed: entry %d is '%s'\n", i, n, l->data);
            return 1;
        }
    }
    if (n != 2) {
        printf("list %d changed: %d entries\n", i, n);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s URL N [CA_FILE]\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > MAX_TRANSFERS)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
    CURL *h[MAX_TRANSFERS];
    struct curl_slist *lists[MAX_TRANSFERS], *heads[MAX_TRANSFERS];
    char url[1024];
    for (int i = 0; i < n; i++) {
        char line[64];
        snprintf(line, sizeof(line), "X-Transfer: %d", i);
        lists[i] = curl_slist_append(NULL, line);
        lists[i] = curl_slist_append(lists[i], "X-Program: curl_multi");
        heads[i] = lists[i];
        h[i] = curl_easy_init();
        snprintf(url, sizeof(url), "%s?i=%d", argv[1], i);
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, lists[i]);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, (void *)(long)i);
        if (argc == 4)
            curl_easy_setopt(h[i], CURLOPT_CAINFO, argv[3]);
        curl_multi_add_handle(m, h[i]);
    }
    int running = 0, failed = 0, done = 0;
    do {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            printf("transfer %ld: status %ld%s\n", (long)priv, status,
                   msg->data.result == CURLE_OK ? "" : " (error)");
            if (msg->data.result != CURLE_OK || status != 200)
                failed++;
            done++;
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    } while (running > 0 || done < n);
    for (int i = 0; i < n; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
        failed += check_list(i, lists[i], heads[i]);
        curl_slist_free_all(lists[i]);
    }
    if (failed == 0)
        printf("lists unchanged\n");
    curl_multi_cleanup(m);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
