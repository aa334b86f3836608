"""Every model, imported once so that Alembic and the metadata tests see the whole schema."""

from services.core.audit.models import AuditEvent  # noqa: F401
from services.core.base import Base  # noqa: F401
from services.core.config_version import MspConfigVersion  # noqa: F401
from services.core.identity.models import (  # noqa: F401
    ApiToken,
    Invitation,
    Membership,
    MfaRecoveryCode,
    PasswordReset,
    TechnicianAssignment,
    User,
    UserSession,
)
from services.core.inventory.models import (  # noqa: F401
    BackupJob,
    BackupJobSystem,
    Contact,
    Link,
    System,
    SystemDependency,
)
from services.core.plans.models import (  # noqa: F401
    Plan,
    PlanAcknowledgement,
    PlanExport,
    PlanTemplate,
    PlanVersion,
    RoleAssignment,
)
from services.core.practices.models import Msp, Practice, Site  # noqa: F401
from services.core.secret_index import SecretIndex  # noqa: F401
from services.core.telemetry.models_ingest import Agent, EnrollmentToken, PingKey, TelemetryEvent  # noqa: F401
from services.core.telemetry.models_dead_letter import IngestRefusal, TelemetryDeadLetter, TelemetryStall  # noqa: F401
from services.core.telemetry.models_pings import PingStep  # noqa: F401
from services.core.telemetry.models_state import (  # noqa: F401
    AgentState,
    BackupJobState,
    BackupRun,
    FailoverEvent,
    LinkSample,
    LinkSample5m,
    LinkState,
    RestoreTest,
)
from services.core.alerts.models import (  # noqa: F401
    AlertOverride,
    AlertPolicy,
    Incident,
    IncidentEvent,
    MaintenanceWindow,
    NotificationChannel,
    NotificationOutbox,
    NotificationRoute,
)
from services.core.readiness.models import (  # noqa: F401
    ReadinessClaim,
    ReadinessCurrent,
    ReadinessDirty,
    ReadinessReport,
    ReadinessSnapshot,
    ReadinessWeights,
)
