/* The route table: every /engine-rest path bpmnd serves, with whether it is
 * open (no authentication) or needs the admin group. Order matters only
 * where a literal segment and {} compete ("/task/count" before "/task/{}"). */
#include "api_int.h"

static const bpm_api_route routes[] = {
    {"GET", "/engine", bpm_api_repo_engine, true, false},
    {"GET", "/version", bpm_api_repo_version, false, false},

    {"GET", "/deployment", bpm_api_repo_deployments, false, false},
    {"POST", "/deployment/create", bpm_api_repo_deploy, false, true},
    {"GET", "/deployment/count", bpm_api_repo_deployments_count, false, false},
    {"GET", "/deployment/{}", bpm_api_repo_deployment, false, false},
    {"DELETE", "/deployment/{}", bpm_api_repo_deployment_delete, false, true},
    {"GET", "/deployment/{}/resources", bpm_api_repo_deployment_resources, false, false},
    {"GET", "/deployment/{}/resources/{}/data", bpm_api_repo_deployment_resource_data, false, false},

    {"GET", "/process-definition", bpm_api_repo_definitions, false, false},
    {"GET", "/process-definition/count", bpm_api_repo_definitions_count, false, false},
    {"GET", "/process-definition/key/{}", bpm_api_repo_definition_by_key, false, false},
    {"GET", "/process-definition/key/{}/xml", bpm_api_repo_definition_xml_by_key, false, false},
    {"POST", "/process-definition/key/{}/start", bpm_api_repo_start_by_key, false, false},
    {"POST", "/process-definition/key/{}/submit-form", bpm_api_repo_start_by_key, false, false},
    {"GET", "/process-definition/{}", bpm_api_repo_definition, false, false},
    {"DELETE", "/process-definition/{}", bpm_api_repo_definition_delete, false, true},
    {"GET", "/process-definition/{}/xml", bpm_api_repo_definition_xml, false, false},
    {"POST", "/process-definition/{}/start", bpm_api_repo_start, false, false},
    {"POST", "/process-definition/{}/submit-form", bpm_api_repo_start, false, false},
    {"PUT", "/process-definition/{}/suspended", bpm_api_repo_definition_suspended, false, true},

    {"POST", "/external-task/fetchAndLock", bpm_api_ext_fetch_and_lock, false, false},
    {"GET", "/external-task", bpm_api_ext_list, false, false},
    {"POST", "/external-task", bpm_api_ext_list, false, false},
    {"GET", "/external-task/count", bpm_api_ext_count, false, false},
    {"POST", "/external-task/count", bpm_api_ext_count, false, false},
    {"GET", "/external-task/topic-names", bpm_api_ext_topic_names, false, false},
    {"GET", "/external-task/{}", bpm_api_ext_get, false, false},
    {"GET", "/external-task/{}/errorDetails", bpm_api_ext_error_details, false, false},
    {"POST", "/external-task/{}/complete", bpm_api_ext_complete, false, false},
    {"POST", "/external-task/{}/failure", bpm_api_ext_failure, false, false},
    {"POST", "/external-task/{}/bpmnError", bpm_api_ext_bpmn_error, false, false},
    {"POST", "/external-task/{}/lock", bpm_api_ext_lock, false, false},
    {"POST", "/external-task/{}/extendLock", bpm_api_ext_extend_lock, false, false},
    {"POST", "/external-task/{}/unlock", bpm_api_ext_unlock, false, false},
    {"PUT", "/external-task/{}/retries", bpm_api_ext_retries, false, true},
    {"PUT", "/external-task/{}/priority", bpm_api_ext_priority, false, true},
    {"GET", "/execution/{}/localVariables/{}/data", bpm_api_ext_file_data, false, false},

    {NULL, NULL, NULL, false, false},
};

const bpm_api_route *bpm_api_routes(void)
{
    return routes;
}
