"""What the console calls each code of the domain; the templates translate them when shown.

The codes (``in_progress``, ``territory``…) are the contract; these are only their names on
screen, marked with ``N_`` so that Babel extracts them into the catalogues.
"""

from __future__ import annotations

from dispatch.console.i18n import N_

CASE_STATUS = {
    "received": N_("Received"),
    "dispatched": N_("Dispatched"),
    "in_progress": N_("In progress"),
    "replied": N_("Replied"),
    "closed": N_("Closed"),
    "answered": N_("Answered directly"),
    "parked": N_("Parked"),
    "merged": N_("Merged"),
    "reopened": N_("Reopened"),
}

TASK_STATE = {
    "dispatched": N_("Awaiting signature"),
    "signed": N_("Signed"),
    "contacted": N_("Citizen contacted"),
    "return_requested": N_("Return requested"),
    "returned": N_("Returned"),
    "replied": N_("Replied"),
    "cancelled": N_("Cancelled"),
}

TASK_ROLE = {"lead": N_("Lead"), "assist": N_("Assisting"), "summoned": N_("Summoned")}

ROLE = {
    "operator": N_("Hotline operator"),
    "dispatcher": N_("Dispatcher"),
    "liaison": N_("Department liaison"),
    "street": N_("Street officer"),
    "supervisor": N_("Supervisor"),
    "admin": N_("Administrator"),
    "grid": N_("Grid worker"),
}

# 诉求性质, in the order a call-taker asks: 咨询, 求助, 投诉, 举报, 建议.
NATURE = {
    "consult": N_("Consultation"),
    "help": N_("Request for help"),
    "complaint": N_("Complaint (grievance)"),
    "report": N_("Report of wrongdoing"),
    "suggestion": N_("Suggestion"),
}

URGENCY = {"normal": N_("Normal"), "urgent": N_("Urgent"), "emergency": N_("Emergency")}

CHANNEL = {
    "phone": N_("Phone"),
    "web": N_("Web"),
    "app": N_("App"),
    "wechat": N_("WeChat"),
    "open311": N_("Open311"),
    "patrol": N_("Street patrol"),
    "email": N_("E-mail"),
    "other": N_("Other"),
}

RETURN_REASON = {
    "territory": N_("Wrong territory"),
    "remit": N_("Not our remit"),
    "ownership": N_("Ownership unclear"),
    "other": N_("Other reason"),
}

STAGE = {"sign": N_("Sign"), "contact": N_("Contact"), "reply": N_("Reply")}
LEVEL = {"yellow": N_("Due soon"), "red": N_("Overdue")}
URGE_LEVEL = {"reminder": N_("Urge (催办)"), "supervision": N_("Supervise (督办)")}
SOLVED = {"solved": N_("Solved"), "partly": N_("Partly solved"), "unsolved": N_("Unsolved")}
SATISFACTION = {
    "satisfied": N_("Satisfied"),
    "basic": N_("Basically satisfied"),
    "unsatisfied": N_("Unsatisfied"),
    "none": N_("No verdict"),
}

TASK_ACTION = {
    "sign": N_("Sign"),
    "contact": N_("Record contact"),
    "extension": N_("Ask for extension"),
    "return": N_("Ask to return"),
    "progress": N_("Note progress"),
    "reply": N_("Reply (done)"),
    "return/approve": N_("Approve return"),
    "return/reject": N_("Reject return"),
    "extension/approve": N_("Approve extension"),
    "extension/deny": N_("Deny extension"),
    "evaluation": N_("Rate the department"),
}

CASE_ACTION = {
    "answer": N_("Answer directly"),
    "callback": N_("Record callback"),
    "close": N_("Close case"),
    "merge": N_("Merge as duplicate"),
    "park": N_("Park"),
    "unpark": N_("Unpark"),
    "reopen": N_("Reopen"),
    "dispatch": N_("Dispatch"),
    "whistle": N_("Blow the whistle"),
    "urge": N_("Urge"),
    "recall": N_("Recall"),
}

TIMELINE_STAGE = {
    "received": N_("Received"),
    "unroutable": N_("Waiting for a dispatcher"),
    "answered": N_("Answered directly"),
    "dispatched": N_("Dispatched, awaiting signature"),
    "whistle": N_("Whistle blown"),
    "signed": N_("Signed, handling"),
    "contacted": N_("Citizen contacted"),
    "return_requested": N_("Return requested"),
    "return_rejected": N_("Return rejected"),
    "returned": N_("Returned to the centre"),
    "cancelled": N_("Task cancelled"),
    "extension_requested": N_("Extension requested"),
    "extension_approved": N_("Extension approved"),
    "extension_denied": N_("Extension denied"),
    "progress": N_("Progress noted"),
    "warning": N_("SLA warning"),
    "replied": N_("Replied, awaiting callback"),
    "urged": N_("Urged"),
    "callback": N_("Callback recorded"),
    "reopened": N_("Reopened"),
    "parked": N_("Parked"),
    "unparked": N_("Unparked"),
    "merged": N_("Merged"),
    "closed": N_("Closed"),
    "attachment_intake": N_("Intake photo added"),
    "attachment_progress": N_("Progress photo added"),
    "attachment_reply": N_("Reply photo added"),
    "attachment_erased": N_("Photo erased (privacy)"),
}

# The audit trail names each event in words; the type code stays beside it for auditors.
EVENT_TYPE = {
    "CaseReceived": N_("Case received"),
    "CaseAnswered": N_("Answered directly"),
    "CaseUnroutable": N_("No routing rule matched"),
    "CaseDispatched": N_("Dispatched to a department"),
    "WhistleBlown": N_("Whistle blown"),
    "TaskSigned": N_("Task signed"),
    "TaskReturnRequested": N_("Return requested"),
    "TaskReturnApproved": N_("Return approved"),
    "TaskReturnRejected": N_("Return rejected"),
    "TaskCancelled": N_("Task cancelled"),
    "CitizenContacted": N_("Citizen contacted"),
    "ExtensionRequested": N_("Extension requested"),
    "ExtensionApproved": N_("Extension approved"),
    "ExtensionDenied": N_("Extension denied"),
    "ProgressNoted": N_("Progress noted"),
    "TaskReplied": N_("Task replied"),
    "AttachmentAdded": N_("Photo or document added"),
    "AttachmentErased": N_("Photo erased (privacy)"),
    "SlaWarningRaised": N_("SLA warning"),
    "CaseUrged": N_("Urged"),
    "CallbackRecorded": N_("Callback recorded"),
    "CaseReopened": N_("Reopened"),
    "CaseParked": N_("Parked"),
    "CaseParkReviewDue": N_("Parked case due for review"),
    "CaseUnparked": N_("Unparked"),
    "CaseMerged": N_("Merged"),
    "CaseClosed": N_("Closed"),
}

# What a person's words in the step log are (退单理由, 延期理由, 办理结果, 回访意见 …).
OPINION = {
    "return": N_("Return reason"),
    "extension": N_("Extension reason"),
    "resolution": N_("Handling result"),
    "callback": N_("Callback opinion"),
    "answer": N_("Answer"),
    "plan": N_("Plan"),
    "override": N_("Override reason"),
    "note": N_("Note"),
    "urge": N_("Urge note"),
    "ruling": N_("Ruling note"),
    "reason": N_("Reason"),
    "merged": N_("Merged into"),
}

KPI = {
    "sign_rate": N_("Sign rate"),
    "response_rate": N_("Response rate"),
    "on_time_rate": N_("On-time rate"),
    "closure_rate": N_("Closure rate"),
    "solve_rate": N_("Solve rate"),
    "satisfaction_rate": N_("Satisfaction rate"),
    "return_rate": N_("Return rate"),
    "street_rating": N_("Street rating"),
    "score": N_("Score"),
}

ALL = {
    "case_status": CASE_STATUS,
    "task_state": TASK_STATE,
    "task_role": TASK_ROLE,
    "role": ROLE,
    "urgency": URGENCY,
    "nature": NATURE,
    "channel": CHANNEL,
    "return_reason": RETURN_REASON,
    "stage": STAGE,
    "level": LEVEL,
    "urge_level": URGE_LEVEL,
    "solved": SOLVED,
    "satisfaction": SATISFACTION,
    "task_action": TASK_ACTION,
    "case_action": CASE_ACTION,
    "timeline_stage": TIMELINE_STAGE,
    "event_type": EVENT_TYPE,
    "opinion": OPINION,
    "kpi": KPI,
}
