/* Diagnostics: silent by default, OTEL_LOG_LEVEL selects error|warn|info|debug.
 * Lines go to stderr prefixed "otelauto[<pid>] <level>: ". Writes use the raw
 * write system call so they never pass through our own hooks. */
#ifndef OA_LOG_H
#define OA_LOG_H

enum oa_log_level {
    OA_LOG_NONE = 0,
    OA_LOG_ERROR,
    OA_LOG_WARN,
    OA_LOG_INFO,
    OA_LOG_DEBUG,
};

/* Current threshold; set once by the configuration loader. */
extern int oa_log_threshold;

void oa_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define OA_LOG(level, ...)                                                     \
    do {                                                                       \
        if ((level) <= oa_log_threshold)                                       \
            oa_log_write((level), __VA_ARGS__);                                \
    } while (0)
#define OA_ERROR(...) OA_LOG(OA_LOG_ERROR, __VA_ARGS__)
#define OA_WARN(...) OA_LOG(OA_LOG_WARN, __VA_ARGS__)
#define OA_INFO(...) OA_LOG(OA_LOG_INFO, __VA_ARGS__)
#define OA_DEBUG(...) OA_LOG(OA_LOG_DEBUG, __VA_ARGS__)

#endif
