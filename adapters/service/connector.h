/* Connector jobs: the HTTP call a connector task or message event stands for
 * (Camunda 7 camunda:connector http-connector, slack-webhook,
 * cloudevents-http; Camunda 8 REST connector, io.bpmnd:slack-webhook,
 * io.bpmnd:cloudevents-http), made with no database transaction open, and
 * its outcome applied through the runtime in a second one. The rules are
 * docs/connectors.md's. */
#ifndef BPM_CONNECTOR_H
#define BPM_CONNECTOR_H

#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "jobs.h"
#include "session.h"

/* Runs connector job j, which this worker has locked: reads its payload, makes
 * the call (its timeouts kept under max_call_ms, so the lock outlasts it),
 * then completes the job's wait through s->rt at the time the call ended,
 * written to *done_ms. *retry receives the job as bpm_jobs_fail should
 * count a failure of it (a Camunda 8 connector's retries and retryBackoff,
 * a Slack or CloudEvents receiver's Retry-After; strings in arena a).
 * Returns what the runtime returned, so:
 *  BPM_OK: applied (completed, or a BPMN error the diagram mapped);
 *  BPM_INVALID: the call failed and the diagram did not map it, the
 *    mapping failed, or the connector is not one bpmnd runs: err says why,
 *    with no secret in it; count a failed attempt;
 *  BPM_NOT_FOUND / BPM_CONFLICT: the job or its wait is gone, the instance
 *    ended or is suspended;
 *  other codes: the database failed (BPM_UNAVAILABLE: reconnect). */
bpm_rc bpm_connector_run(bpm_session *s, const bpm_job *j, int64_t max_call_ms, bpm_arena *a, bpm_job *retry,
                         int64_t *done_ms, bpm_err *err);

#endif
