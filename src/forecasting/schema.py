"""Column names and table contracts: the one place they are defined.

A data set is a folder of tables (CSV or Parquet), one file per table named after it
(``orders.csv`` or ``orders.parquet``). The column names below are the contract; every
function that takes a table uses these names as defaults, never string literals of its own.

Types (``Column.kind``):

* ``id``       -- identifier, always read and kept as ``str`` (``"12346"``, never ``12346.0``)
* ``datetime`` -- timezone-naive timestamp; dates without a time mean midnight
* ``number``   -- float
* ``int``      -- whole number (stored as float when the column has gaps)
* ``category`` -- one of ``Column.allowed``; unknown values are repaired when ``repair_to`` is set
* ``str``      -- free text

Example:
    >>> from forecasting.schema import TABLES, ORDER_DATE
    >>> TABLES["orders"].required_columns()[:3]
    ['order_id', 'customer_id', 'product_id']
    >>> ORDER_DATE
    'order_date'
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- column names -------------------------------------------------------------------------
ORDER_ID = "order_id"
LINE_NO = "line_no"
CUSTOMER_ID = "customer_id"
PRODUCT_ID = "product_id"
ORDER_DATE = "order_date"
QUANTITY = "quantity"
AMOUNT = "amount"
PROMISED_DATE = "promised_date"
DELIVERED_DATE = "delivered_date"
STATUS = "status"

CREATED_AT = "created_at"

COMPLAINT_ID = "complaint_id"
OPENED_AT = "opened_at"
RESOLVED_AT = "resolved_at"
CATEGORY = "category"
SEVERITY = "severity"

SURVEYED_AT = "surveyed_at"
CSAT = "csat"
NPS = "nps"
DIMENSIONS = ("quality", "delivery", "service", "price")

ON_HAND = "on_hand"
LEAD_TIME_DAYS = "lead_time_days"
MIN_BATCH = "min_batch"
UNIT_COST = "unit_cost"

# long series format (demand): one row per series and period
UNIQUE_ID = "unique_id"
DS = "ds"
Y = "y"

# --- allowed values -----------------------------------------------------------------------
STATUS_COMPLETED = "completed"
STATUS_CANCELLED = "cancelled"
STATUS_RETURNED = "returned"
ORDER_STATUSES = (STATUS_COMPLETED, STATUS_CANCELLED, STATUS_RETURNED)
COMPLAINT_CATEGORIES = ("quality", "delivery", "service", "price", "other")
COMPLAINT_CATEGORY_OTHER = "other"


@dataclass(frozen=True)
class Column:
    """One column of a table contract."""

    name: str
    kind: str  # id | datetime | number | int | category | str
    required: bool = True
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    repair_to: str | None = None  # unknown category values become this, counted in the report
    description: str = ""


@dataclass(frozen=True)
class Table:
    """A table contract: its columns, its key and whether a data set must have it."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = False
    description: str = ""
    extra_columns_ok: bool = True
    # columns holding dates that must not lie in the future
    not_future: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


ORDERS = Table(
    name="orders",
    required=True,
    key=(ORDER_ID, LINE_NO),  # LINE_NO optional: without it the key is (order_id, product_id)
    description="One row per order line. Drives RFM, demand and fulfilment.",
    columns=(
        Column(ORDER_ID, "id", description="order (invoice) id; several lines share one"),
        Column(CUSTOMER_ID, "id", nullable=True,
               description="empty for anonymous sales: they count for demand, not customers"),
        Column(PRODUCT_ID, "id"),
        Column(ORDER_DATE, "datetime"),
        Column(QUANTITY, "number", description="units; negative only on returned lines"),
        Column(AMOUNT, "number", description="line revenue = quantity x unit price"),
        Column(LINE_NO, "int", required=False, min=0, description="line number within the order"),
        Column(PROMISED_DATE, "datetime", required=False, nullable=True),
        Column(DELIVERED_DATE, "datetime", required=False, nullable=True,
               description="empty while not delivered; on time = delivered <= promised"),
        Column(STATUS, "category", required=False, nullable=True, allowed=ORDER_STATUSES,
               description="completed (default when empty), cancelled or returned"),
    ),
    not_future=(ORDER_DATE, DELIVERED_DATE),
)

CUSTOMERS = Table(
    name="customers",
    key=(CUSTOMER_ID,),
    description="One row per customer; extra columns are attributes and become features.",
    columns=(
        Column(CUSTOMER_ID, "id"),
        Column(CREATED_AT, "datetime", required=False, nullable=True),
    ),
    not_future=(CREATED_AT,),
)

COMPLAINTS = Table(
    name="complaints",
    key=(COMPLAINT_ID,),
    description="Complaints; resolution time = resolved_at - opened_at.",
    columns=(
        Column(COMPLAINT_ID, "id"),
        Column(CUSTOMER_ID, "id"),
        Column(OPENED_AT, "datetime"),
        Column(CATEGORY, "category", allowed=COMPLAINT_CATEGORIES,
               repair_to=COMPLAINT_CATEGORY_OTHER),
        Column(RESOLVED_AT, "datetime", required=False, nullable=True,
               description="empty while open"),
        Column(SEVERITY, "str", required=False, nullable=True),
    ),
    not_future=(OPENED_AT, RESOLVED_AT),
)

SURVEYS = Table(
    name="surveys",
    key=(),
    description="Satisfaction (csat 1-5) and recommendation (nps 0-10) surveys.",
    columns=(
        Column(CUSTOMER_ID, "id"),
        Column(SURVEYED_AT, "datetime"),
        Column(CSAT, "number", min=1, max=5),
        Column(NPS, "number", required=False, nullable=True, min=0, max=10),
        *(Column(d, "number", required=False, nullable=True, min=1, max=5) for d in DIMENSIONS),
    ),
    not_future=(SURVEYED_AT,),
)

INVENTORY = Table(
    name="inventory",
    key=(PRODUCT_ID,),
    description="Stock on hand per product; only needed for the production plan.",
    columns=(
        Column(PRODUCT_ID, "id"),
        Column(ON_HAND, "number", min=0),
        Column(LEAD_TIME_DAYS, "number", required=False, nullable=True, min=0),
        Column(MIN_BATCH, "number", required=False, nullable=True, min=0),
        Column(UNIT_COST, "number", required=False, nullable=True, min=0),
    ),
)

PRODUCTS = Table(
    name="products",
    key=(PRODUCT_ID,),
    description="Optional product attributes (category, ...) used by demand models.",
    columns=(Column(PRODUCT_ID, "id"),),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (ORDERS, CUSTOMERS, COMPLAINTS, SURVEYS, INVENTORY, PRODUCTS)
}

SERIES = Table(
    name="series",
    key=(UNIQUE_ID, DS),
    description="Long demand table: one row per series and period.",
    columns=(
        Column(UNIQUE_ID, "id"),
        Column(DS, "datetime"),
        Column(Y, "number"),
    ),
)
