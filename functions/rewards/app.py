"""The rewards catalogue (docs/wallet.md, "Rewards catalogue"): an admin prices rewards in points, with optional
stock; anyone signed in lists them; members redeem them with ``POST /v1/redemptions`` and ``reward_id``."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY, ANY_CALLER
from loyalty.rewards.http import RewardAnswer, RewardIdInPath, RewardList, RewardTerms
from loyalty.wiring import rewards

router = Router(tags=["Rewards"])


@router.operation("PUT", "/v1/rewards/<reward_id>", operation_id="putReward",
                  summary="Publish or change a reward (admin)", access=ADMIN_ONLY, model=RewardAnswer, body=True,
                  description="`stock` sets the units left (null: unlimited); `coupon_template_id` makes it a coupon "
                              "reward (an unknown template → `422`).")
def put_reward(reward_id: RewardIdInPath, body: RewardTerms) -> Response[RewardAnswer]:
    return answer(RewardAnswer, rewards().put(body.reward(reward_id)))


@router.operation("GET", "/v1/rewards", operation_id="listRewards", summary="The catalogue", access=ANY_CALLER,
                  model=RewardList, description="By `reward_id`; `stock` as it is now.")
def list_rewards() -> Response[RewardList]:
    return answer(RewardList, {"items": rewards().rewards()})


app = create_app(router)
handler = lambda_entry(app)
