"""Fabricated template contexts with the names documents.services and the workflow services use."""

from datetime import UTC, date, datetime
from decimal import Decimal

NUMBER = "黔市监知〔2026〕12号"


TECH_TRANSFER_PROGRAM = {
    "title": "技术转移机构经费资助",
    "policy_document": "贵州省专利转化运用专项行动实施方案（2023—2025年）",
    "policy_clause": "二（三）3",
    "policy_text": "对新获批的国家级、省级技术转移机构，分别给予100万元、30万元经费资助。",
}
RECOGNITION_PROGRAM = {
    "title": "知识产权优势企业认定",
    "policy_document": "贵州省专利转化运用专项行动实施方案（2023—2025年）",
    "policy_clause": "二（二）2",
    "policy_text": (
        "大力实施知识产权优势企业培育工程，开展专利奖评选表彰活动，着力提升专利产业化水平。"
    ),
}
PATENT_AWARD_PROGRAM = {**RECOGNITION_PROGRAM, "title": "专利奖评选表彰"}


def common_context(title: str, program: dict = TECH_TRANSFER_PROGRAM, call: str = "") -> dict:
    return {
        "title": title,
        "issuer": {
            "name": "贵州省市场监督管理局",
            "code": "黔市监知",
            "reconsideration_body": "贵州省人民政府",
            "court": "贵阳市中级人民法院",
        },
        "program": dict(program),
        "number": NUMBER,
        "issued_on": date(2026, 3, 5),
        "call": {"title": call or "2026年度技术转移机构经费资助申报（第1批）"},
    }


def application_context(**changes) -> dict:
    return {
        "institution_name": "贵州黔创技术转移中心有限公司",
        "uscc": "91520100MA6DK1234X",
        "tier_label": "国家级技术转移机构",
        "approval_number": "国科火字〔2025〕88号",
        "approval_date": date(2025, 11, 3),
        # 17:30 UTC on 28 February is already 1 March in Guiyang.
        "submitted_at": datetime(2026, 2, 28, 17, 30, tzinfo=UTC),
        "bank_name": "中国工商银行贵阳中华北路支行",
        "bank_account": "2402000109200012345",
        "account_name": "贵州黔创技术转移中心有限公司",
        **changes,
    }


def award_letter_context(**changes) -> dict:
    return {
        **common_context("奖励通知书"),
        "application": application_context(),
        "amount": Decimal("1000000.00"),
        "amount_words": "人民币壹佰万元整",
        "previously_paid": None,
        "tier_amount": Decimal("1000000.00"),
        **changes,
    }


def funding_rows() -> list[dict]:
    return [
        {
            "institution_name": "贵州黔创技术转移中心有限公司",
            "uscc": "91520100MA6DK1234X",
            "tier_label": "国家级",
            "amount": Decimal("1000000.00"),
            "amount_words": "人民币壹佰万元整",
        },
        {
            "institution_name": "遵义市技术转移服务中心",
            "uscc": "12520300MB1234567Y",
            "tier_label": "省级",
            "amount": Decimal("300000.00"),
            "amount_words": "人民币叁拾万元整",
        },
    ]


def recognition_rows() -> list[dict]:
    """A recognition that pays nothing: no amounts, as decision_issue builds it."""
    return [
        {
            "institution_name": "贵州黔丰新材料股份有限公司",
            "uscc": "91520100MA6DK5678Y",
            "tier_label": "",
            "patent_number": "",
            "amount": None,
            "amount_words": "",
        },
        {
            "institution_name": "遵义红城智能装备有限公司",
            "uscc": "91520300MA6EK1234Z",
            "tier_label": "",
            "patent_number": "",
            "amount": None,
            "amount_words": "",
        },
    ]


def recognition_decision_context(**changes) -> dict:
    return {
        **common_context(
            "关于2026年度贵州省知识产权优势企业认定结果的决定",
            RECOGNITION_PROGRAM,
            "2026年度贵州省知识产权优势企业认定",
        ),
        "rows": recognition_rows(),
        "total": None,
        "validity_years": 3,
        "valid_until": date(2029, 3, 5),
        **changes,
    }


def commendation_rows() -> list[dict]:
    return [
        {
            "institution_name": "贵州黔丰新材料股份有限公司",
            "uscc": "91520100MA6DK5678Y",
            "tier_label": "专利金奖",
            "patent_number": "ZL202110123456.7",
            "amount": Decimal("200000.00"),
            "amount_words": "人民币贰拾万元整",
        },
        {
            "institution_name": "遵义红城智能装备有限公司",
            "uscc": "91520300MA6EK1234Z",
            "tier_label": "专利优秀奖",
            "patent_number": "ZL201920654321.X",
            "amount": Decimal("50000.00"),
            "amount_words": "人民币伍万元整",
        },
    ]


def commendation_decision_context(**changes) -> dict:
    return {
        **common_context(
            "关于第五届贵州省专利奖的表彰决定", PATENT_AWARD_PROGRAM, "第五届贵州省专利奖评选"
        ),
        "rows": commendation_rows(),
        "total": Decimal("250000.00"),
        "validity_years": 0,
        "valid_until": None,
        **changes,
    }


def certificate_context(**changes) -> dict:
    """A recognition certificate; pass `application=award_certificate_application()` and a title
    for a patent award."""
    return {
        **common_context("贵州省知识产权优势企业", RECOGNITION_PROGRAM),
        "number": "黔市监知〔2026〕13号",
        "application": application_context(
            institution_name="贵州黔丰新材料股份有限公司",
            uscc="91520100MA6DK5678Y",
            tier_label="",
            patent_number="",
        ),
        "amount": None,
        "amount_words": "",
        "decision_number": NUMBER,
        "valid_until": date(2029, 3, 5),
        **changes,
    }


def award_certificate_application() -> dict:
    return application_context(
        institution_name="贵州黔丰新材料股份有限公司",
        uscc="91520100MA6DK5678Y",
        tier_label="专利金奖",
        patent_number="ZL202110123456.7",
    )


CONTEXTS = {
    "acceptance_notice": lambda: {
        **common_context("受理通知书"),
        "application": application_context(),
    },
    "refusal_decision": lambda: {
        **common_context("不予受理决定书"),
        "application": application_context(),
        "reasons": "1. 获批日期不在本批次规定的获批期间内；\n\n2. 未提供营业执照或法人登记证书。",
    },
    "funding_decision": lambda: {
        **common_context("资助决定"),
        "rows": funding_rows(),
        "total": Decimal("1300000.00"),
    },
    "decision_notice": lambda: {
        **common_context("资助决定通知书"),
        "application": application_context(),
        "amount": Decimal("1000000.00"),
        "amount_words": "人民币壹佰万元整",
        "decision_number": "黔市监知〔2026〕11号",
    },
    "award_letter": award_letter_context,
    "recognition_decision": recognition_decision_context,
    "commendation_decision": commendation_decision_context,
    "certificate": certificate_context,
    "round_result_decision": lambda: {
        **common_context("评审结果决定书", PATENT_AWARD_PROGRAM),
        "application": application_context(patent_number="202110123456.7"),
        "round": {
            "name": "初评",
            "score": Decimal("63.00"),
            "rank": 7,
            "ranked": 8,
            "places": 4,
            "cutoff": Decimal("72.00"),
            "scored": 3,
        },
        "reasons": "",
    },
    "correction_notice": lambda: {
        **common_context("补正通知书"),
        "application": application_context(),
        "reasons": "获批文件扫描件不清晰，请重新上传。\n营业执照已过期，请提供有效营业执照。",
        "deadline": datetime(2026, 3, 12, 15, 59, 59, tzinfo=UTC),
        "days": 5,
        "provisional_reason": "",
    },
    "lapse_notice": lambda: {
        **common_context("终止办理告知书"),
        "application": application_context(),
        "reasons": "逾期未提交补正材料，视为放弃申报。",
        "deadline": datetime(2026, 3, 12, 15, 59, 59, tzinfo=UTC),
    },
    "not_recommended_notice": lambda: {
        **common_context("不予推荐告知书", PATENT_AWARD_PROGRAM),
        "application": application_context(),
        "reasons": "本市推荐名额有限，另有更优项目。",
        "office": "贵阳市市场监督管理局",
    },
    "rejection_decision": lambda: {
        **common_context("审议不予通过决定书"),
        "application": application_context(),
        "reasons": "获批文件与申报级别不符。",
        "meeting": "局务会",
    },
    "withdrawal_decision": lambda: {
        **common_context("撤销列入名单决定书"),
        "application": application_context(),
        "reasons": "经核实，获批文件系伪造。",
        "notice": {
            "title": "2026年度技术转移机构经费资助拟资助名单公示",
            "starts_at": datetime(2026, 3, 1, 2, tzinfo=UTC),
            "ends_at": datetime(2026, 3, 7, 15, 59, 59, tzinfo=UTC),
        },
    },
    "not_awarded_decision": lambda: {
        **common_context("评审未通过决定书", PATENT_AWARD_PROGRAM),
        "application": application_context(patent_number="202110123456.7"),
        "reasons": "技术水平一般。",
        "committee": "评审委员会",
        "outcome_word": "授予奖励",
    },
}
