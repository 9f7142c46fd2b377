/* The process model: the read-only "plan tree" every instance runs against.
 * Built by a front end (bpmn/ from XML, or tests in C), then frozen with
 * bpm_model_freeze() and shared between threads as `const bpm_model *`.
 * Everything hangs off the model arena; ids are interned there, so two ids
 * are equal exactly when their pointers are. Extension elements of Camunda 7
 * (camunda:) and Camunda 8 (zeebe:) are read into the neutral fields below. */
#ifndef BPM_MODEL_H
#define BPM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "strmap.h"

typedef struct bpm_model bpm_model;
typedef struct bpm_process bpm_process;
typedef struct bpm_node bpm_node;
typedef struct bpm_flow bpm_flow;

/* ---- expressions --------------------------------------------------------- */

/* How an expression's text is to be read. The front end decides from the
 * language attribute and the text's shape; scripts/ compiles it. */
typedef enum bpm_dialect {
    BPM_DIALECT_NONE = 0, /* no expression */
    BPM_DIALECT_LITERAL,  /* plain text: "PT5M", "accounting", "42" */
    BPM_DIALECT_LUA,      /* language="lua" / scriptFormat="lua" */
    BPM_DIALECT_JUEL,     /* ${...} or #{...} (Camunda 7) */
    BPM_DIALECT_FEEL,     /* leading '=' (Camunda 8) */
    BPM_DIALECT_OTHER,    /* a language we do not run (javascript, groovy...) */
} bpm_dialect;

typedef struct bpm_expr {
    const char *text;     /* as written (FEEL without its '='); NULL = absent */
    const char *language; /* language/scriptFormat attribute as written, or NULL */
    bpm_dialect dialect;
    int line;
    const void *compiled; /* set by bpm_model_compile() through the evaluator */
} bpm_expr;

static inline bool bpm_expr_present(const bpm_expr *e) { return e->text != NULL; }

/* ---- global definitions -------------------------------------------------- */

typedef struct bpm_message {
    const char *id;
    const char *name;           /* may itself be an expression in Camunda 7 */
    bpm_expr correlation_key;   /* zeebe:subscription correlationKey */
    int line;
} bpm_message;

typedef struct bpm_signal {
    const char *id;
    const char *name;
    int line;
} bpm_signal;

typedef struct bpm_error_def {
    const char *id;
    const char *name;
    const char *code;          /* errorCode; NULL = none */
    const char *message;       /* camunda:errorMessage */
    int line;
} bpm_error_def;

typedef struct bpm_escalation {
    const char *id;
    const char *name;
    const char *code; /* escalationCode */
    int line;
} bpm_escalation;

/* ---- extension data ------------------------------------------------------ */

typedef struct bpm_pair {
    const char *name;
    const char *value;
} bpm_pair;

/* An extension element we do not map: qualified name and its XML, kept so
 * nothing a designer wrote is silently dropped. */
typedef struct bpm_unknown_ext {
    const char *name;  /* e.g. "camunda:foo" or "{ns}foo" */
    const char *value; /* serialized element */
    int line;
} bpm_unknown_ext;

typedef enum bpm_param_kind {
    BPM_PARAM_NULL = 0, /* <camunda:inputParameter name="x"/> : null */
    BPM_PARAM_EXPR,     /* text (literal or expression) */
    BPM_PARAM_SCRIPT,   /* <camunda:script scriptFormat=...> */
    BPM_PARAM_LIST,
    BPM_PARAM_MAP,
} bpm_param_kind;

/* One value of a Camunda inputOutput parameter or a zeebe ioMapping entry.
 * For zeebe, `name` is the target and `value` the FEEL source. */
typedef struct bpm_param {
    const char *name; /* param name, or map key inside a map */
    bpm_param_kind kind;
    bpm_expr value; /* EXPR and SCRIPT */
    const char *script_resource; /* camunda:script resource="..." */
    struct bpm_param *items; /* LIST items / MAP entries (name = key) */
    size_t n_items;
    int line;
} bpm_param;

typedef struct bpm_io {
    bpm_param *inputs;
    size_t n_inputs;
    bpm_param *outputs;
    size_t n_outputs;
} bpm_io;

typedef enum bpm_impl_kind {
    BPM_IMPL_NONE = 0,
    BPM_IMPL_SCRIPT,              /* script listener/task: runs Lua */
    BPM_IMPL_EXPRESSION,          /* camunda:expression */
    BPM_IMPL_EXTERNAL,            /* camunda:type="external" topic */
    BPM_IMPL_CONNECTOR,           /* camunda:connector */
    BPM_IMPL_JOB,                 /* zeebe:taskDefinition type */
    BPM_IMPL_CLASS,               /* camunda:class (Java: not runnable) */
    BPM_IMPL_DELEGATE_EXPRESSION, /* camunda:delegateExpression (Java) */
    BPM_IMPL_DECISION,            /* camunda:decisionRef / zeebe:calledDecision */
} bpm_impl_kind;

typedef struct bpm_listener {
    const char *event; /* start|end|take|create|assignment|complete|delete|update|timeout */
    bpm_impl_kind kind;
    bpm_expr script;     /* SCRIPT: the script; EXPRESSION: the expression */
    const char *target;  /* CLASS/DELEGATE_EXPRESSION text; JOB type */
    const char *retries; /* zeebe listener retries */
    int line;
} bpm_listener;

typedef struct bpm_form_field {
    const char *id;
    const char *label;
    const char *type;          /* string, long, boolean, date, enum, custom */
    const char *default_value;
    bpm_pair *enum_values;     /* id -> name */
    size_t n_enum_values;
    bpm_pair *constraints;     /* name -> config (required, minlength, ...) */
    size_t n_constraints;
    bpm_pair *properties;
    size_t n_properties;
    int line;
} bpm_form_field;

#define BPM_TASK_PRIORITY_DEFAULT 50 /* a user task's priority when none is given (Camunda 7 and 8) */

/* User task assignment and forms. Expressions may be literals. */
typedef struct bpm_user_task {
    bpm_expr assignee;
    bpm_expr candidate_users;  /* comma list or expression */
    bpm_expr candidate_groups;
    bpm_expr due_date;
    bpm_expr follow_up_date;
    bpm_expr priority;
    const char *form_key;      /* camunda:formKey, zeebe formKey */
    const char *form_ref;      /* camunda:formRef / zeebe formId */
    const char *form_ref_binding;
    const char *form_ref_version;
    const char *external_reference; /* zeebe:formDefinition externalReference */
    const char *embedded_form;      /* zeebe:userTaskForm body */
    bpm_form_field *form_fields;
    size_t n_form_fields;
    bpm_listener *task_listeners;
    size_t n_task_listeners;
    bool zeebe_user_task; /* <zeebe:userTask/>: engine-managed task */
} bpm_user_task;

/* What a service, send or business rule task (or a message throw event) does. */
typedef struct bpm_service {
    bpm_impl_kind kind;
    const char *topic;        /* EXTERNAL: camunda:topic */
    const char *job_type;     /* JOB: zeebe:taskDefinition type (may be FEEL) */
    bpm_expr retries;         /* zeebe:taskDefinition retries */
    bpm_expr task_priority;   /* camunda:taskPriority */
    bpm_expr expression;      /* EXPRESSION */
    const char *target;       /* CLASS / DELEGATE_EXPRESSION / decision ref */
    const char *connector_id; /* CONNECTOR: e.g. "http-connector" */
    bpm_io connector_io;      /* the connector's own inputOutput */
    bpm_pair *headers;        /* zeebe:taskHeaders */
    size_t n_headers;
    /* Camunda 8 outbound connector task headers (read for every job type,
     * compiled only where bpmnd runs the connector itself) */
    const char *result_variable; /* resultVariable: the whole response */
    bpm_expr result_expression;  /* resultExpression (FEEL, over the response) */
    bpm_expr error_expression;   /* errorExpression (FEEL; bpmnError(...) throws) */
    const char *retry_backoff;   /* retryBackoff: ISO 8601 duration between retries */
    const char *decision_result_variable;
    const char *map_decision_result;
} bpm_service;

typedef struct bpm_script {
    const char *format;   /* scriptFormat as written */
    bpm_expr body;        /* dialect LUA/OTHER; or a FEEL zeebe:script */
    const char *resource; /* camunda:resource (external script) */
} bpm_script;

typedef enum bpm_binding {
    BPM_BINDING_LATEST = 0,
    BPM_BINDING_DEPLOYMENT,
    BPM_BINDING_VERSION,
    BPM_BINDING_VERSION_TAG,
} bpm_binding;

/* camunda:in / camunda:out (and zeebe propagation flags). */
typedef struct bpm_var_mapping {
    const char *source;            /* variable name */
    bpm_expr source_expression;
    const char *target;
    bool all;        /* variables="all" */
    bool local;
    bool business_key; /* camunda:in businessKey="..." */
    bpm_expr business_key_expr;
    int line;
} bpm_var_mapping;

typedef struct bpm_call {
    bpm_expr called_element; /* process key (literal, JUEL or FEEL) */
    bpm_binding binding;
    const char *version;
    const char *version_tag;
    bpm_var_mapping *in;
    size_t n_in;
    bpm_var_mapping *out;
    size_t n_out;
    bool propagate_all_child; /* zeebe propagateAllChildVariables */
    bool propagate_all_parent;
    bool has_propagate_child;
} bpm_call;

/* ---- events -------------------------------------------------------------- */

typedef enum bpm_event_kind {
    BPM_EVENT_NONE = 0,
    BPM_EVENT_MESSAGE,
    BPM_EVENT_TIMER,
    BPM_EVENT_SIGNAL,
    BPM_EVENT_ERROR,
    BPM_EVENT_ESCALATION,
    BPM_EVENT_COMPENSATE,
    BPM_EVENT_CONDITIONAL,
    BPM_EVENT_LINK,
    BPM_EVENT_CANCEL,
    BPM_EVENT_TERMINATE,
} bpm_event_kind;
#define BPM_EVENT_KIND_COUNT 11

typedef enum bpm_timer_kind {
    BPM_TIMER_DATE = 1,
    BPM_TIMER_DURATION,
    BPM_TIMER_CYCLE,
} bpm_timer_kind;

typedef struct bpm_event_def {
    bpm_event_kind kind;
    const char *id;
    const bpm_message *message;       /* MESSAGE */
    const bpm_signal *signal;         /* SIGNAL */
    const bpm_error_def *error;       /* ERROR; NULL = catch all */
    const bpm_escalation *escalation; /* ESCALATION; NULL = catch all */
    const char *ref;                  /* the ref as written, for diagnostics */
    bpm_timer_kind timer_kind;        /* TIMER */
    bpm_expr timer;                   /* TIMER: the value */
    bpm_expr condition;               /* CONDITIONAL */
    const char *variable_name;        /* CONDITIONAL: camunda:variableName */
    const char *variable_events;      /* CONDITIONAL: camunda:variableEvents */
    const char *link_name;            /* LINK */
    const bpm_node *activity;         /* COMPENSATE: activityRef */
    bool wait_for_completion;         /* COMPENSATE (default true) */
    const char *error_code_variable;  /* ERROR: camunda:errorCodeVariable */
    const char *error_message_variable;
    const char *escalation_code_variable;
    bpm_service *throw_impl;          /* MESSAGE throw with an implementation */
    int line;
} bpm_event_def;

/* ---- flow nodes ---------------------------------------------------------- */

#define BPM_NODE_KIND_MAP(X)                                              \
    X(START_EVENT, "startEvent")                                          \
    X(END_EVENT, "endEvent")                                              \
    X(INTERMEDIATE_CATCH, "intermediateCatchEvent")                       \
    X(INTERMEDIATE_THROW, "intermediateThrowEvent")                       \
    X(BOUNDARY_EVENT, "boundaryEvent")                                    \
    X(TASK, "task")                                                       \
    X(SERVICE_TASK, "serviceTask")                                        \
    X(SCRIPT_TASK, "scriptTask")                                          \
    X(USER_TASK, "userTask")                                              \
    X(MANUAL_TASK, "manualTask")                                          \
    X(SEND_TASK, "sendTask")                                              \
    X(RECEIVE_TASK, "receiveTask")                                        \
    X(BUSINESS_RULE_TASK, "businessRuleTask")                             \
    X(CALL_ACTIVITY, "callActivity")                                      \
    X(SUBPROCESS, "subProcess")                                           \
    X(EVENT_SUBPROCESS, "eventSubProcess")                                \
    X(TRANSACTION, "transaction")                                         \
    X(ADHOC_SUBPROCESS, "adHocSubProcess")                                \
    X(EXCLUSIVE_GATEWAY, "exclusiveGateway")                              \
    X(INCLUSIVE_GATEWAY, "inclusiveGateway")                              \
    X(PARALLEL_GATEWAY, "parallelGateway")                                \
    X(EVENT_BASED_GATEWAY, "eventBasedGateway")                           \
    X(COMPLEX_GATEWAY, "complexGateway")

typedef enum bpm_node_kind {
#define X(name, xml) BPM_NODE_##name,
    BPM_NODE_KIND_MAP(X)
#undef X
    BPM_NODE_KIND_COUNT
} bpm_node_kind;

typedef enum bpm_loop_kind {
    BPM_LOOP_NONE = 0,
    BPM_LOOP_STANDARD,
    BPM_LOOP_MULTI_INSTANCE,
} bpm_loop_kind;

typedef struct bpm_loop {
    bpm_loop_kind kind;
    /* multi-instance */
    bool sequential;
    bpm_expr cardinality;          /* loopCardinality */
    bpm_expr collection;           /* camunda:collection, zeebe inputCollection */
    const char *element_variable;  /* camunda:elementVariable, zeebe inputElement */
    bpm_expr completion_condition;
    const char *output_collection; /* zeebe outputCollection */
    bpm_expr output_element;       /* zeebe outputElement */
    bool async_before, async_after; /* camunda async on the MI body */
    /* standard loop */
    bpm_expr loop_condition;
    int64_t loop_maximum; /* -1 = unbounded */
    bool test_before;
    int line;
} bpm_loop;

typedef struct bpm_async {
    bool before;
    bool after;
    bool exclusive;                   /* default true */
    const char *retry_time_cycle;     /* camunda:failedJobRetryTimeCycle */
    bpm_expr job_priority;            /* camunda:jobPriority */
} bpm_async;

struct bpm_flow {
    const char *id;
    const char *name;
    uint32_t index; /* in process->flows */
    int line;
    const bpm_node *source;
    const bpm_node *target;
    bpm_expr condition; /* conditionExpression; absent = unconditional */
    bool is_default;    /* it is its source's default flow */
    const char *documentation;
    bpm_listener *listeners; /* execution listeners on "take" */
    size_t n_listeners;
};

struct bpm_node {
    const char *id;
    const char *name;
    bpm_node_kind kind;
    uint32_t index; /* in process->nodes */
    int line;
    const bpm_process *process;
    const bpm_node *parent; /* enclosing (event/ad-hoc/transaction) subprocess, or NULL */
    const char *documentation;

    const bpm_flow **incoming;
    size_t n_incoming;
    const bpm_flow **outgoing;
    size_t n_outgoing;
    const bpm_flow *default_flow; /* gateways and activities */

    /* containers: nodes directly inside (subprocesses) */
    const bpm_node **children;
    size_t n_children;
    /* events: definitions; several = a multiple event (any one triggers) */
    bpm_event_def *events;
    size_t n_events;
    bool parallel_multiple; /* all must trigger */
    bool interrupting;      /* boundary cancelActivity / event-subprocess start isInterrupting */
    const bpm_node *attached_to; /* boundary events */
    const bpm_node *handler;     /* compensation boundary: the handler its association points at */
    const bpm_node **boundaries; /* boundary events attached to this activity */
    size_t n_boundaries;
    const char *initiator;       /* start event: camunda:initiator */
    bpm_form_field *form_fields; /* start event camunda:formData */
    size_t n_form_fields;
    const char *form_key;        /* start event camunda:formKey */

    /* activities */
    const bpm_loop *loop; /* NULL = no loop characteristics */
    bool for_compensation;
    bool start_quantity_many; /* startQuantity/completionQuantity > 1 (not run) */
    bpm_async async;
    bpm_io io;
    bpm_listener *listeners; /* execution listeners */
    size_t n_listeners;
    bpm_pair *properties;    /* camunda:properties, zeebe:properties */
    size_t n_properties;
    bpm_unknown_ext *unknown; /* unmapped extension elements */
    size_t n_unknown;
    const char *result_variable;
    bpm_user_task *user;   /* USER_TASK */
    bpm_service *service;  /* SERVICE/SEND/BUSINESS_RULE_TASK */
    bpm_script *script;    /* SCRIPT_TASK */
    bpm_call *call;        /* CALL_ACTIVITY */
    const bpm_message *message; /* RECEIVE_TASK / SEND_TASK messageRef */
    bool instantiate;      /* receive task / event gateway instantiate="true" */

    /* ad-hoc subprocess */
    bpm_expr adhoc_completion;
    bool adhoc_cancel_remaining; /* cancelRemainingInstances (default true) */
    bool adhoc_sequential;       /* ordering="Sequential" */
    /* gateways */
    bpm_expr activation_condition; /* complex gateway */
    const char *gateway_direction;
    const char *event_gateway_type; /* Exclusive | Parallel */
};

/* ---- process-level structure --------------------------------------------- */

typedef struct bpm_lane {
    const char *id;
    const char *name;
    const char **node_ids; /* flowNodeRef, as interned ids */
    size_t n_node_ids;
    struct bpm_lane *children;
    size_t n_children;
    int line;
} bpm_lane;

typedef enum bpm_data_kind {
    BPM_DATA_OBJECT = 0,
    BPM_DATA_OBJECT_REF,
    BPM_DATA_STORE,
    BPM_DATA_STORE_REF,
    BPM_DATA_INPUT,
    BPM_DATA_OUTPUT,
} bpm_data_kind;

/* Data objects and stores: kept for tools and audits, not executed. */
typedef struct bpm_data {
    bpm_data_kind kind;
    const char *id;
    const char *name;
    const char *ref; /* dataObjectRef / dataStoreRef / itemSubjectRef */
    bool is_collection;
    int line;
} bpm_data;

struct bpm_process {
    const char *id;
    const char *name;
    uint32_t index;
    int line;
    bool executable;
    bool executable_given; /* isExecutable was written */
    const char *documentation;
    const char *version_tag;
    const char *history_ttl; /* camunda:historyTimeToLive as written */
    const char *candidate_starter_groups;
    const char *candidate_starter_users;
    bool startable_in_tasklist; /* default true */
    bpm_node **nodes; /* every flow node, nested ones included, document order */
    size_t n_nodes;
    bpm_flow **flows;
    size_t n_flows;
    const bpm_node **top; /* nodes directly in the process */
    size_t n_top;
    bpm_lane *lanes;
    size_t n_lanes;
    bpm_data *data;
    size_t n_data;
    bpm_listener *listeners; /* process-level execution listeners */
    size_t n_listeners;
    bpm_pair *properties;
    size_t n_properties;
    bpm_unknown_ext *unknown;
    size_t n_unknown;
    bpm_strmap node_ids; /* id -> bpm_node* */
    bpm_strmap flow_ids; /* id -> bpm_flow* */
};

typedef struct bpm_participant {
    const char *id;
    const char *name;
    const char *process_ref;
    const bpm_process *process; /* resolved, or NULL for a black box pool */
    int line;
} bpm_participant;

typedef struct bpm_message_flow {
    const char *id;
    const char *name;
    const char *source_ref;
    const char *target_ref;
    const char *message_ref;
    int line;
} bpm_message_flow;

typedef struct bpm_collaboration {
    const char *id;
    const char *name;
    bpm_participant *participants;
    size_t n_participants;
    bpm_message_flow *message_flows;
    size_t n_message_flows;
    int line;
} bpm_collaboration;

struct bpm_model {
    bpm_arena *arena; /* owns everything below */
    int refcount;
    bool frozen;
    const char *file; /* name used in diagnostics */
    const char *target_namespace;
    const char *exporter;
    const char *exporter_version;
    const char *execution_platform; /* modeler:executionPlatform */
    const char *execution_platform_version;
    bpm_process *processes;
    size_t n_processes;
    bpm_collaboration *collaborations;
    size_t n_collaborations;
    bpm_message *messages;
    size_t n_messages;
    bpm_signal *signals;
    size_t n_signals;
    bpm_error_def *errors;
    size_t n_errors;
    bpm_escalation *escalations;
    size_t n_escalations;
    bpm_data *data_stores; /* definitions-level dataStore elements */
    size_t n_data_stores;
    bpm_strmap strings; /* intern pool */
    bpm_strmap ids;     /* every id in the document -> object (untyped) */
};

/* New empty model with its own arena, refcount 1. Free with bpm_model_unref(). */
bpm_model *bpm_model_new(const char *file);
/* Marks the model immutable; from here on it is shared as const. */
void bpm_model_freeze(bpm_model *m);
/* Refcount: safe only under the caller's own synchronisation or atomics at
 * the cache that shares models (see adapters). */
bpm_model *bpm_model_ref(bpm_model *m);
void bpm_model_unref(bpm_model *m);

/* Interned copy of s in the model (NULL stays NULL). */
const char *bpm_model_intern(bpm_model *m, const char *s);

/* Lookups, O(1). NULL when absent. */
const bpm_process *bpm_model_find_process(const bpm_model *m, const char *id);
const bpm_node *bpm_model_find_node(const bpm_process *p, const char *id);
const bpm_flow *bpm_model_find_flow(const bpm_process *p, const char *id);
const bpm_message *bpm_model_find_message_by_name(const bpm_model *m, const char *name);

/* "userTask", "startEvent"... ; "message", "timer"... */
const char *bpm_model_kind_name(bpm_node_kind k);
const char *bpm_model_event_kind_name(bpm_event_kind k);

/* Node family tests. */
bool bpm_model_is_activity(bpm_node_kind k);
bool bpm_model_is_gateway(bpm_node_kind k);
bool bpm_model_is_event(bpm_node_kind k);
bool bpm_model_is_container(bpm_node_kind k); /* sub/event/transaction/ad-hoc */
/* Whether s is a Camunda 8 task that bpmnd runs as one of its built-in
 * connectors instead of handing the job to a worker: the REST connector
 * (job type io.camunda:http-json:N), the Slack incoming webhook
 * (io.bpmnd:slack-webhook:N) or CloudEvents over HTTP
 * (io.bpmnd:cloudevents-http:N). Its wait is a "connector" job, as a
 * camunda:connector's is. */
bool bpm_model_zeebe_connector(const bpm_service *s);
/* Whether s publishes to a message broker through the outbox instead of
 * running as a job: Camunda 8's RabbitMQ connector (job type
 * io.camunda:connector-rabbitmq:N) or a Camunda 7 camunda:connector with
 * connectorId "rabbitmq-publish" (docs/messaging.md). */
bool bpm_model_publisher(const bpm_service *s);
/* Whether user task n has a task listener for `event` ("create",
 * "assignment", "complete", "delete"). A task listener has no default
 * event: only those naming it count. false for any other node. */
bool bpm_model_task_listens(const bpm_node *n, const char *event);

#endif
