/* Structured logs: one JSON object per line on stderr, with time, level,
 * event and fields. Secrets are never passed here. */
#ifndef BPM_LOG_H
#define BPM_LOG_H

/* fields: pairs of key, value strings ending with NULL. */
void bpm_log_write(const char *level, const char *event, const char *msg, ...);
/* Adapter for the executor's log callback (ud unused). */
void bpm_log_executor(void *ud, const char *level, const char *event, const char *msg);

#endif
