"""What every refusal says, in Simplified Chinese and English (DESIGN §8.3).

Pure data: a stable snake-case ``code`` → two templates with named placeholders. Adding a code
is one entry in ``REFUSALS``; ``tests/unit/test_refusal_wording.py`` fails for a code raised
anywhere in ``dispatch/domain`` that has no entry here.

The placeholders are filled at the boundary (``dispatch.handlers.wording``) from the error's
facts, in words: ``{case}`` ("工单 <case_no>", "case <case_no>"; a sentence's first letter is
capitalised); ``{department}`` / ``{departments}`` / ``{street}`` /
``{category}`` as catalogue names; ``{task}`` as "the <department> task"; ``{action}``,
``{status}`` and ``{task_state}`` as words; dates (``{reply_by}``, ``{earliest}``,
``{latest}``, ``{report_by}``) as local times. Templates never name internal ids.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

Language = Literal["zh", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh", "en")


class Words(NamedTuple):
    zh: str
    en: str

    def in_(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


# -- the refusals of the case rules (409) ---------------------------------------------------

REFUSALS: Final[dict[str, Words]] = {
    "not_allowed": Words(
        "{case}当前不能办理这一操作。",
        "{case} does not allow this step now.",
    ),
    "case_not_received": Words("没有这张工单。", "There is no such case."),
    "case_already_received": Words("{case}已经受理过了。", "{case} has already been received."),
    "case_action_not_allowed": Words(
        "{case}当前“{status}”，不能{action}。",
        '{case} is {status}: "{action}" is not possible now.',
    ),
    "case_closed": Words(
        "{case}已结案，不能{action}。",
        '{case} is closed: "{action}" is not possible.',
    ),
    "case_merged": Words(
        "{case}已合并到其他工单，不能{action}。",
        '{case} was merged into another case: "{action}" is not possible.',
    ),
    "case_answered": Words(
        "{case}已直接答复，不能{action}。",
        '{case} was answered directly: "{action}" is not possible.',
    ),
    "case_parked": Words(
        "{case}已挂账，取消挂账之前不能{action}。",
        '{case} is parked: "{action}" must wait until it is unparked.',
    ),
    "case_not_replied": Words(
        "{case}还有承办部门未办结（当前“{status}”），不能{action}。",
        '{case} is {status}: not every department has replied, so "{action}" must wait.',
    ),
    "case_not_finished": Words(
        "{case}尚未办结（当前“{status}”），不能{action}。",
        '{case} is {status}, not finished: "{action}" is not possible yet.',
    ),
    "case_not_parked": Words(
        "{case}没有挂账，无需取消挂账。",
        "{case} is not parked, so there is nothing to unpark.",
    ),
    "case_already_dispatched": Words(
        "{case}已经派单（当前“{status}”），不能{action}。",
        '{case} has been dispatched ({status}): "{action}" is not possible.',
    ),
    "callback_unsatisfied": Words(
        "{case}的回访结果为不满意，不能直接结案：请重办或由主管决定。",
        "The callback on {case} was unsatisfied: reopen it, or a supervisor decides.",
    ),
    "task_unknown": Words("{case}没有这个任务。", "{case} has no such task."),
    "task_not_signed": Words(
        "{case}的{task}尚未签收，请先签收再{action}。",
        'On {case}, {task} is not signed yet: sign it before "{action}".',
    ),
    "task_already_signed": Words(
        "{case}的{task}已经签收，不能再{action}。",
        'On {case}, {task} is already signed, so "{action}" is no longer possible.',
    ),
    "citizen_already_contacted": Words(
        "{case}的{task}已记录联系诉求人；之后的联系请记为办理进展。",
        "On {case}, {task} has already contacted the citizen: note later calls as progress.",
    ),
    "task_return_too_late": Words(
        "{case}的{task}已联系诉求人，不能再申请退单，可以申请延期或办结。",
        "On {case}, {task} has contacted the citizen: it can no longer be returned.",
    ),
    "task_return_pending": Words(
        "{case}的{task}正在等待退单审核，审核之前不能{action}。",
        'On {case}, {task} awaits a ruling on its return: "{action}" must wait.',
    ),
    "no_return_pending": Words(
        "{case}的{task}没有待审核的退单申请。",
        "On {case}, {task} has no return request awaiting a ruling.",
    ),
    "extension_pending": Words(
        "{case}的{task}已有一份延期申请在等待审核。",
        "On {case}, {task} already has an extension request awaiting a ruling.",
    ),
    "no_extension_pending": Words(
        "{case}的{task}没有待审核的延期申请。",
        "On {case}, {task} has no extension request awaiting a ruling.",
    ),
    "task_replied": Words(
        "{case}的{task}已经办结，不能{action}。",
        'On {case}, {task} has already replied: "{action}" is not possible.',
    ),
    "task_returned": Words(
        "{case}的{task}已退单，不能{action}。",
        'On {case}, {task} was returned: "{action}" is not possible.',
    ),
    "task_cancelled": Words(
        "{case}的{task}已撤销，不能{action}。",
        'On {case}, {task} was cancelled: "{action}" is not possible.',
    ),
    "task_action_not_allowed": Words(
        "{case}的{task}当前“{task_state}”，不能{action}。",
        'On {case}, {task} is {task_state}: "{action}" is not possible now.',
    ),
    "no_department_named": Words("请至少选择一个承办部门。", "Name at least one department."),
    "summoned_only_by_whistle": Words(
        "“吹哨报到”的任务只能由街道吹哨产生，派单时请选择主办或协办。",
        "Summoned tasks come only from a street's whistle: dispatch as lead or assist.",
    ),
    "task_id_taken": Words(
        "{case}刚刚生成了同样的任务，请刷新后再试。",
        "{case} already has that task: reload it and try again.",
    ),
    "department_already_holds_task": Words(
        "{department}在{case}上已有未办结的任务，不能重复派给它。",
        "{department} already holds an open task on {case}.",
    ),
    "department_already_summoned": Words(
        "{case}已吹哨召集{department}，该部门正在报到办理，无需重复召集。",
        "{department} has already been summoned to {case}.",
    ),
    "one_lead_only": Words(
        "{case}同一时间只能有一个主办部门（{departments}）。",
        "{case} has one lead department at a time ({departments}).",
    ),
    "whistle_already_blown": Words(
        "{street}已就{case}吹过这次哨。",
        "{street} has already blown this whistle on {case}.",
    ),
    "whistle_department_unnamed": Words(
        "吹哨没有点名{departments}。", "The whistle does not name {departments}."
    ),
    "report_by_past": Words(
        "报到时限 {report_by} 已经过去，请给部门留出报到时间。",
        "The report-by time {report_by} has already passed: give the departments time.",
    ),
    "department_holds_no_task": Words(
        "{department}在{case}上没有未办结的任务，无法向它催办。",
        "{department} holds no open task on {case} to urge.",
    ),
    "merge_into_itself": Words("{case}不能合并到它自己。", "{case} cannot be merged into itself."),
    "merge_target_merged": Words(
        "{case}不能并入工单 {target_case_no}：它已并入另一张工单，请并入那张主工单。",
        "{case} cannot be merged into case {target_case_no}: that case was itself merged into"
        " another; merge into that one.",
    ),
    "merge_target_closed": Words(
        "{case}不能并入工单 {target_case_no}：它已结案或已直接答复，重复诉求只能并入在办工单。",
        "{case} cannot be merged into case {target_case_no}: it is closed or answered; a"
        " duplicate merges into an open case.",
    ),
    "nothing_to_recall": Words(
        "{case}没有派给部门的任务，无需召回。",
        "{case} has no task out with a department to recall.",
    ),
    "photo_required": Words(
        "“{category}”类工单办结前须上传现场照片：请先为{task}上传办结照片。",
        'Cases of "{category}" need a photo to reply: add a reply photo for {task} first.',
    ),
    "extension_not_later": Words(
        "延期后的答复时限须晚于 {earliest}，而不是 {reply_by}。",
        "An extension must move the reply deadline past {earliest}, not to {reply_by}.",
    ),
    "extension_too_long": Words(
        "延期到 {reply_by} 超出了允许的最长延期，最晚只能到 {latest}。",
        "An extension to {reply_by} is too long: the latest allowed is {latest}.",
    ),
    "extension_not_allowed": Words(
        "这类工单的{task}不允许延期，须在 {latest} 之前办结。",
        "This kind of case allows no extension: {task} must reply by {latest}.",
    ),
    "task_not_summoned": Words(
        "{case}的{task}不是吹哨报到的任务，街道只评价本街道吹哨召集的部门。",
        "On {case}, {task} was not summoned by a whistle: a street rates only the departments"
        " it summoned.",
    ),
    "task_not_replied": Words(
        "{case}的{task}尚未办结，办结后才能评价。",
        "On {case}, {task} has not replied yet: rate it once it has.",
    ),
    "task_already_evaluated": Words(
        "{case}的{task}已经评价过，每个任务只评价一次。",
        "On {case}, {task} has already been rated: each task is rated once.",
    ),
}

# -- refusals at the boundary: who asks, what they sent, the store --------------------------

BOUNDARY: Final[dict[str, Words]] = {
    "bad_request": Words("请求有误，无法办理。", "The request cannot be carried out."),
    "case_not_found": Words("没有找到这张工单。", "There is no such case."),
    "task_not_found": Words("没有找到这个任务。", "There is no such task."),
    "not_in_scope": Words(
        "这张工单或任务不归您办理：只有持有任务部门的联络员或所在街道的人员可以操作。",
        "This case or task is outside your scope: only the liaisons of the department that "
        "holds it, or the officers of its street, may act on it.",
    ),
    "stale_version": Words(
        "{case}已被他人更新，请刷新后再试。",
        "{case} was changed by someone else first: reload it and try again.",
    ),
    "busy": Words(
        "{case}正在被其他操作连续更新，请稍后重新提交。",
        "{case} is busy with other changes: send the command again shortly.",
    ),
    "no_catalogue": Words(
        "尚未加载目录，请管理员先加载目录。",
        "No catalogue is loaded yet: an admin must load one first.",
    ),
    "invalid_input": Words("请检查 {field}：{problem}", "Please check {field}: {problem}"),
    "unknown_grid": Words("没有网格 {grid}。", "There is no grid {grid}."),
    "unknown_category": Words("没有诉求分类 {category}。", "There is no category {category}."),
    "unknown_department": Words("没有部门 {department}。", "There is no department {department}."),
    "merge_target_unknown": Words(
        "要合并到的工单不存在。", "The case to merge into does not exist."
    ),
    "outside_own_street": Words(
        "街道人员只能上报本街道网格内的问题。",
        "Street officers report problems in their own street only.",
    ),
    "idempotency_key_reused": Words(
        "这个 Idempotency-Key 已用于另一份内容不同的受理请求。",
        "This Idempotency-Key was already used for a different request.",
    ),
    "not_your_whistle": Words(
        "只有吹哨的街道才能评价这个任务：它不是本街道召集的。",
        "Only the street that blew the whistle may rate this task: your street did not summon it.",
    ),
    "invalid_body": Words("请求内容有误：{fields}。", "The request is invalid: {fields}."),
    # -- patrols (三巡一查零报告, §8.7) --
    "outside_own_grid": Words(
        "网格员只能上报本网格的巡查和问题，{grid}不是本网格。",
        "A grid worker reports patrols and problems of their own grid only, not of {grid}.",
    ),
    "grid_files_patrol_only": Words(
        "网格员上报的是巡查发现的问题，渠道须为“巡查”。",
        "A grid worker files what their patrol finds: the channel is patrol.",
    ),
    "patrol_round_already_reported": Words(
        "网格 {grid} 今天的{round}已经上报过了，同一轮次不能重复上报。",
        "Grid {grid} has already reported today's {round} round; a round is reported once.",
    ),
    "unknown_patrol_round": Words(
        "目录中没有巡查轮次“{round}”。", "The catalogue has no patrol round {round}."
    ),
    "finding_outside_patrol_grid": Words(
        "巡查发现的问题须在本次巡查的网格 {grid} 内。",
        "A finding of this patrol must lie in its grid, {grid}.",
    ),
}

ALL_CODES: Final[dict[str, Words]] = {**REFUSALS, **BOUNDARY}

# The title of a problem, by HTTP status.
TITLES: Final[dict[int, Words]] = {
    400: Words("请求有误", "Bad request"),
    401: Words("请先登录", "Sign in first"),
    403: Words("无权操作", "Not yours to act on"),
    404: Words("未找到", "Not found"),
    409: Words("当前状态下无法办理", "Not allowed in the current state"),
    412: Words("工单已被更新", "The case has changed"),
    413: Words("内容过大", "Too large"),
    415: Words("不支持的文件类型", "Unsupported file type"),
    422: Words("请求内容有误", "Invalid request"),
    429: Words("请求过于频繁", "Too many requests"),
    503: Words("服务暂时不可用", "Service unavailable"),
}

NEXT_STEPS = Words("现在可以：{allowed}。", "Next you may: {allowed}.")
NOTHING_NEXT = Words("这张工单已无可办理的操作。", "Nothing more can be done on it.")
LIST_SEPARATOR = Words("、", ", ")
FIELD_SEPARATOR = Words("：", ": ")
TASK_OF = Words("{department}的任务", "the {department} task")
SOME_DEPARTMENT = Words("该部门", "the department")
SOME_STEP = Words("这一操作", "this step")
CASE = Words("工单 {case_no} ", "case {case_no}")
SOME_CASE = Words("该工单", "the case")

# Actions are the last segment of the command paths; the words are what the desk calls them.
ACTIONS: Final[dict[str, Words]] = {
    "receive": Words("受理", "receive"),
    "answer": Words("直接答复", "answer directly"),
    "dispatch": Words("派单", "dispatch"),
    "recall": Words("撤回派单", "recall"),
    "whistle": Words("吹哨", "blow the whistle"),
    "sign": Words("签收", "sign"),
    "return": Words("退单", "return"),
    "return/approve": Words("批准退单", "approve the return"),
    "return/reject": Words("驳回退单", "reject the return"),
    "contact": Words("联系诉求人", "contact the citizen"),
    "extension": Words("延期", "ask for an extension"),
    "extension/approve": Words("批准延期", "approve the extension"),
    "extension/deny": Words("驳回延期", "deny the extension"),
    "progress": Words("记录办理进展", "note progress"),
    "reply": Words("办结", "reply"),
    "evaluation": Words("评价", "rate the department"),
    "attachments": Words("上传照片或附件", "add a photo or file"),
    "urge": Words("催办", "urge"),
    "callback": Words("回访", "record the callback"),
    "close": Words("结案", "close"),
    "reopen": Words("重办", "reopen"),
    "park": Words("挂账", "park"),
    "unpark": Words("取消挂账", "unpark"),
    "merge": Words("合并", "merge"),
    "unroutable": Words("转人工派单", "hand to a dispatcher"),
    "cancel": Words("撤销", "cancel"),
}

CASE_STATUSES: Final[dict[str, Words]] = {
    "received": Words("已受理、待派单", "received, awaiting dispatch"),
    "dispatched": Words("已派单、待签收", "dispatched, awaiting signature"),
    "in_progress": Words("办理中", "in progress"),
    "replied": Words("已办结、待回访", "replied, awaiting callback"),
    "closed": Words("已结案", "closed"),
    "answered": Words("已直接答复", "answered directly"),
    "parked": Words("已挂账", "parked"),
    "merged": Words("已合并", "merged"),
    "reopened": Words("重办中", "reopened"),
}

TASK_STATES: Final[dict[str, Words]] = {
    "dispatched": Words("待签收", "awaiting signature"),
    "signed": Words("已签收", "signed"),
    "contacted": Words("已联系诉求人", "in contact with the citizen"),
    "return_requested": Words("退单待审核", "awaiting a return ruling"),
    "returned": Words("已退单", "returned"),
    "replied": Words("已办结", "replied"),
    "cancelled": Words("已撤销", "cancelled"),
}
