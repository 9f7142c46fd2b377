/* Shared inside adapters/api: the handlers the route table names, the DTO
 * expressions several resources use, and small helpers. */
#ifndef BPM_API_INT_H
#define BPM_API_INT_H

#include "api.h"
#include "api_list.h"

/* The ProcessInstanceDto of process_instance i. */
#define BPM_API_INSTANCE_DTO \
    "json_build_object('links', '[]'::json, 'id', i.id, 'definitionId', i.definition_id, " \
    "'definitionKey', i.definition_key, 'businessKey', i.business_key, 'caseInstanceId', null, " \
    "'ended', i.state <> 'active', 'suspended', i.suspended, 'tenantId', i.tenant_id)"

/* The ProcessDefinitionDto of process_definition p. */
#define BPM_API_DEFINITION_DTO \
    "json_build_object('id', p.id, 'key', p.key, 'category', p.category, 'description', null, " \
    "'name', p.name, 'version', p.version, 'resource', p.resource_name, 'deploymentId', " \
    "p.deployment_id, 'diagram', null, 'suspended', p.suspended, 'tenantId', p.tenant_id, " \
    "'versionTag', p.version_tag, 'historyTimeToLive', case when p.history_ttl ~ '^[0-9]+$' then " \
    "p.history_ttl::int end, 'startableInTasklist', p.startable)"

/* Engine time in SQL: the server's clock plus the offset `bpmnctl clock`
 * sets, as jobs fall due by it. */
#define BPM_API_ENGINE_NOW "(now() + (select offset_ms from clock) * interval '1 millisecond')"

/* An incident's state over incident n and its instance i (whose run state is
 * column st): resolved once resolved_at is set; deleted when it was never
 * resolved but its instance ended or its job or external task is gone (an
 * interrupting event took the activity away); open otherwise. */
#define BPM_API_INCIDENT_STATE(st) \
    "case when n.resolved_at is not null then 'resolved' when " st " <> 'active' or (n.type <> 'failedStep' " \
    "and not exists (select 1 from job j where j.id = n.configuration)) then 'deleted' else 'open' end"

/* Decodes the typed variables under key in body into *vars (a new object,
 * {} when absent); false after writing a 400 into r. */
bool bpm_api_vars(const json_t *body, const char *key, json_t **vars, bpm_api_resp *r);

/* The typed variables an instance's wait sees (wait < 0: the process scope),
 * or only those a JSON array names, as Camunda returns them:
 * {name: {type, value, valueInfo}}. New reference, or NULL after writing an
 * error into r. */
json_t *bpm_api_instance_vars(const bpm_api_req *req, const char *instance_id, long wait, const json_t *only,
                              bpm_api_resp *r);
/* The same for many waits at once, in one query: waits is [{"i": instance,
 * "w": wait}]; the result an array of typed maps in that order. */
json_t *bpm_api_waits_vars(const bpm_api_req *req, const json_t *waits, const json_t *only, bpm_api_resp *r);

/* Runs one command on the open user task or external task wait of an
 * instance: complete (with vars), or a BPMN error. */

#define BPM_API_HANDLER(name) void name(const bpm_api_req *req, bpm_api_resp *r)

/* repository: api_repo.c */
BPM_API_HANDLER(bpm_api_repo_engine);
BPM_API_HANDLER(bpm_api_repo_version);
BPM_API_HANDLER(bpm_api_repo_deployments);
BPM_API_HANDLER(bpm_api_repo_deployments_count);
BPM_API_HANDLER(bpm_api_repo_deployment);
BPM_API_HANDLER(bpm_api_repo_deployment_delete);
BPM_API_HANDLER(bpm_api_repo_deployment_resources);
BPM_API_HANDLER(bpm_api_repo_deployment_resource_data);
BPM_API_HANDLER(bpm_api_repo_deploy);
BPM_API_HANDLER(bpm_api_repo_definitions);
BPM_API_HANDLER(bpm_api_repo_definitions_count);
BPM_API_HANDLER(bpm_api_repo_definition);
BPM_API_HANDLER(bpm_api_repo_definition_by_key);
BPM_API_HANDLER(bpm_api_repo_definition_xml);
BPM_API_HANDLER(bpm_api_repo_definition_xml_by_key);
BPM_API_HANDLER(bpm_api_repo_start);
BPM_API_HANDLER(bpm_api_repo_start_by_key);
BPM_API_HANDLER(bpm_api_repo_definition_suspended);
BPM_API_HANDLER(bpm_api_repo_definition_delete);
BPM_API_HANDLER(bpm_api_repo_statistics);
BPM_API_HANDLER(bpm_api_repo_definition_statistics);

/* external tasks: api_ext.c */
BPM_API_HANDLER(bpm_api_ext_fetch_and_lock);
BPM_API_HANDLER(bpm_api_ext_complete);
BPM_API_HANDLER(bpm_api_ext_failure);
BPM_API_HANDLER(bpm_api_ext_bpmn_error);
BPM_API_HANDLER(bpm_api_ext_lock);
BPM_API_HANDLER(bpm_api_ext_extend_lock);
BPM_API_HANDLER(bpm_api_ext_unlock);
BPM_API_HANDLER(bpm_api_ext_list);
BPM_API_HANDLER(bpm_api_ext_count);
BPM_API_HANDLER(bpm_api_ext_get);
BPM_API_HANDLER(bpm_api_ext_error_details);
BPM_API_HANDLER(bpm_api_ext_retries);
BPM_API_HANDLER(bpm_api_ext_priority);
BPM_API_HANDLER(bpm_api_ext_topic_names);
BPM_API_HANDLER(bpm_api_ext_file_data);
/* tasks: api_task.c */
BPM_API_HANDLER(bpm_api_task_list);
BPM_API_HANDLER(bpm_api_task_count);
BPM_API_HANDLER(bpm_api_task_get);
BPM_API_HANDLER(bpm_api_task_claim);
BPM_API_HANDLER(bpm_api_task_unclaim);
BPM_API_HANDLER(bpm_api_task_assignee);
BPM_API_HANDLER(bpm_api_task_delegate);
BPM_API_HANDLER(bpm_api_task_resolve);
BPM_API_HANDLER(bpm_api_task_complete);
BPM_API_HANDLER(bpm_api_task_bpmn_error);
BPM_API_HANDLER(bpm_api_task_form);
BPM_API_HANDLER(bpm_api_task_form_variables);
BPM_API_HANDLER(bpm_api_task_variables);
BPM_API_HANDLER(bpm_api_task_variable);
BPM_API_HANDLER(bpm_api_task_variable_put);
BPM_API_HANDLER(bpm_api_task_variable_delete);
BPM_API_HANDLER(bpm_api_task_variables_patch);
BPM_API_HANDLER(bpm_api_task_identity_links);
BPM_API_HANDLER(bpm_api_task_identity_link_add);
BPM_API_HANDLER(bpm_api_task_identity_link_delete);
BPM_API_HANDLER(bpm_api_task_update);

/* process instances, messages, signals: api_instance.c */
BPM_API_HANDLER(bpm_api_instance_list);
BPM_API_HANDLER(bpm_api_instance_count);
BPM_API_HANDLER(bpm_api_instance_get);
BPM_API_HANDLER(bpm_api_instance_delete);
BPM_API_HANDLER(bpm_api_instance_suspended);
BPM_API_HANDLER(bpm_api_instance_activities);
BPM_API_HANDLER(bpm_api_instance_variables);
BPM_API_HANDLER(bpm_api_instance_variable);
BPM_API_HANDLER(bpm_api_instance_variable_put);
BPM_API_HANDLER(bpm_api_instance_variable_delete);
BPM_API_HANDLER(bpm_api_instance_variables_patch);
BPM_API_HANDLER(bpm_api_instance_modification);
BPM_API_HANDLER(bpm_api_instance_executions);
BPM_API_HANDLER(bpm_api_message);
BPM_API_HANDLER(bpm_api_signal);

/* the OpenAPI document: openapi.c */
BPM_API_HANDLER(bpm_api_openapi);

/* incidents and jobs: api_ops.c */
BPM_API_HANDLER(bpm_api_ops_incidents);
BPM_API_HANDLER(bpm_api_ops_incidents_count);
BPM_API_HANDLER(bpm_api_ops_incident);
BPM_API_HANDLER(bpm_api_ops_incident_annotate);
BPM_API_HANDLER(bpm_api_ops_incident_clear_annotation);
BPM_API_HANDLER(bpm_api_ops_jobs);
BPM_API_HANDLER(bpm_api_ops_jobs_count);
BPM_API_HANDLER(bpm_api_ops_job);
BPM_API_HANDLER(bpm_api_ops_job_stacktrace);
BPM_API_HANDLER(bpm_api_ops_job_retries);
BPM_API_HANDLER(bpm_api_ops_job_execute);
BPM_API_HANDLER(bpm_api_ops_job_suspended);
BPM_API_HANDLER(bpm_api_ops_jobs_suspended);
BPM_API_HANDLER(bpm_api_ops_job_duedate);
BPM_API_HANDLER(bpm_api_ops_job_delete);

/* history: api_history.c */
BPM_API_HANDLER(bpm_api_history_instances);
BPM_API_HANDLER(bpm_api_history_instances_count);
BPM_API_HANDLER(bpm_api_history_instance);
BPM_API_HANDLER(bpm_api_history_instance_delete);
BPM_API_HANDLER(bpm_api_history_activities);
BPM_API_HANDLER(bpm_api_history_activities_count);
BPM_API_HANDLER(bpm_api_history_activity);
BPM_API_HANDLER(bpm_api_history_tasks);
BPM_API_HANDLER(bpm_api_history_tasks_count);
BPM_API_HANDLER(bpm_api_history_variables);
BPM_API_HANDLER(bpm_api_history_variables_count);
BPM_API_HANDLER(bpm_api_history_variable);
BPM_API_HANDLER(bpm_api_history_variable_data);
BPM_API_HANDLER(bpm_api_history_variable_delete);
BPM_API_HANDLER(bpm_api_history_operations);
BPM_API_HANDLER(bpm_api_history_operations_count);
BPM_API_HANDLER(bpm_api_history_incidents);
BPM_API_HANDLER(bpm_api_history_incidents_count);

/* users and groups: api_identity.c */
BPM_API_HANDLER(bpm_api_identity_groups);
BPM_API_HANDLER(bpm_api_identity_verify);
BPM_API_HANDLER(bpm_api_identity_group_list);
BPM_API_HANDLER(bpm_api_identity_group_count);
BPM_API_HANDLER(bpm_api_identity_user_list);
BPM_API_HANDLER(bpm_api_identity_user_count);
BPM_API_HANDLER(bpm_api_identity_user_profile);

#endif
